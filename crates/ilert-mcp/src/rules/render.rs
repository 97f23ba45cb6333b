//! Compact projections of ilert objects for a model's context window, and their one-line text forms.

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, Utc};
use ilert_client::{AlertStatus, AlertSummary, NamedRef, SummaryRef, SummaryResponder};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::rules::untrusted;

/// Longest `details` text returned before it is cut (and marked as cut).
pub const MAX_DETAILS_CHARS: usize = 2_000;

/// ilert's times, normalised to whole-second ISO-8601 UTC (`2026-11-23T21:40:03Z`). Unparseable
/// values pass through unchanged rather than vanish.
pub fn time(raw: Option<&str>) -> Option<String> {
    let raw = raw?.trim();
    if raw.is_empty() {
        return None;
    }
    if let Some(seconds) = utc_seconds(raw) {
        // Already UTC: keep the whole seconds (the common case, without a full parse).
        let mut out = String::with_capacity(20);
        out.push_str(seconds);
        out.push('Z');
        return Some(out);
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

impl From<SummaryRef<'_>> for Ref {
    fn from(r: SummaryRef<'_>) -> Self {
        Self {
            id: r.id,
            name: r.name.map(|n| untrusted::inline_owned(n.into_owned())),
        }
    }
}

impl From<&NamedRef> for Ref {
    fn from(r: &NamedRef) -> Self {
        Self {
            id: r.id,
            name: r.name.clone().map(untrusted::inline_owned),
        }
    }
}

/// `2026-11-23T21:40:03` out of `2026-11-23T21:40:03Z` or `2026-11-23T21:40:03.512Z`, where the
/// time is in UTC with in-range fields; anything else is left to the full RFC 3339 parser.
fn utc_seconds(raw: &str) -> Option<&str> {
    let (head, tail) = (raw.get(..19)?.as_bytes(), raw.get(19..)?.as_bytes());
    // d: a digit; anything else must match exactly.
    let shape = head
        .iter()
        .zip(b"dddd-dd-ddTdd:dd:dd")
        .all(|(c, want)| match want {
            b'd' => c.is_ascii_digit(),
            _ => c == want,
        });
    let number = |r: std::ops::Range<usize>| raw.get(r).and_then(|n| n.parse::<u32>().ok());
    let in_range = shape
        && (1..=12).contains(&number(5..7)?)
        && (1..=31).contains(&number(8..10)?)
        && number(11..13)? < 24
        && number(14..16)? < 60
        && number(17..19)? < 60;
    let fraction = match tail {
        [b'Z'] => true,
        [b'.', rest @ .., b'Z'] => !rest.is_empty() && rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    (in_range && fraction).then(|| raw.get(..19)).flatten()
}

/// A person working on an alert.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Responder {
    /// ilert user id.
    pub id: i64,
    pub name: String,
    /// PENDING (notified, not yet accepted) or ACCEPTED.
    pub status: String,
    /// When they accepted (single alerts; lists leave it out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<String>,
}

/// A responder, with the time they accepted if `accepted_at`.
fn responder(r: SummaryResponder<'_>, accepted_at: bool) -> Responder {
    Responder {
        id: r.user.id,
        name: untrusted::inline_owned(r.user.display_name()),
        status: r
            .status
            .map_or_else(|| "PENDING".to_owned(), Cow::into_owned),
        accepted_at: accepted_at
            .then(|| time(r.accepted_at.as_deref()))
            .flatten(),
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

/// Turns a client-side alert into a compact item. With `app_url` (the ilert web app root) the item
/// is a single alert's: it links to the alert and says when each responder accepted. Without, it
/// is a list's, which leaves those out (get_alert has them): for 50 alerts they are about 4 KB.
pub fn alert_item(alert: AlertSummary<'_>, app_url: Option<&str>) -> AlertItem {
    AlertItem {
        id: alert.id,
        summary: alert
            .summary
            .map(|s| untrusted::inline_owned(s.into_owned()))
            .unwrap_or_default(),
        status: match alert.status {
            Some(AlertStatus::Other(other)) => other,
            Some(known) => known.as_str().to_owned(),
            None => "UNKNOWN".to_owned(),
        },
        priority: alert.priority.map(Cow::into_owned),
        severity: alert.severity,
        source: alert.alert_source.map(Ref::from),
        policy: alert.escalation_policy.map(Ref::from),
        reported_at: time(alert.report_time.as_deref()),
        resolved_at: time(alert.resolved_on.as_deref()),
        responders: alert
            .responders
            .into_iter()
            .map(|r| responder(r, app_url.is_some()))
            .collect(),
        url: app_url.map(|app| alert_url(app, alert.id)),
    }
}

/// The JSON of `serde_json::to_value(&item)`, built by moving the strings rather than copying
/// them: alert lists are the busiest answer (see docs/performance.md). A test keeps the two equal.
// Keys go in in descending order: a map's search for where a key belongs then stops at the first
// key it compares with, where ascending order would compare with every key already in.
impl From<AlertItem> for Value {
    fn from(a: AlertItem) -> Self {
        let mut m = Map::new();
        if let Some(u) = a.url {
            m.insert("url".into(), u.into());
        }
        m.insert("summary".into(), a.summary.into());
        m.insert("status".into(), a.status.into());
        if let Some(r) = a.source {
            m.insert("source".into(), r.into());
        }
        if let Some(s) = a.severity {
            m.insert("severity".into(), s.into());
        }
        if !a.responders.is_empty() {
            let list = a.responders.into_iter().map(Value::from).collect();
            m.insert("responders".into(), Value::Array(list));
        }
        if let Some(t) = a.resolved_at {
            m.insert("resolved_at".into(), t.into());
        }
        if let Some(t) = a.reported_at {
            m.insert("reported_at".into(), t.into());
        }
        if let Some(p) = a.priority {
            m.insert("priority".into(), p.into());
        }
        if let Some(r) = a.policy {
            m.insert("policy".into(), r.into());
        }
        m.insert("id".into(), a.id.into());
        Value::Object(m)
    }
}

impl From<Ref> for Value {
    fn from(r: Ref) -> Self {
        let mut m = Map::new();
        if let Some(n) = r.name {
            m.insert("name".into(), n.into());
        }
        m.insert("id".into(), r.id.into());
        Value::Object(m)
    }
}

impl From<Responder> for Value {
    fn from(r: Responder) -> Self {
        let mut m = Map::new();
        m.insert("status".into(), r.status.into());
        m.insert("name".into(), r.name.into());
        m.insert("id".into(), r.id.into());
        if let Some(t) = r.accepted_at {
            m.insert("accepted_at".into(), t.into());
        }
        Value::Object(m)
    }
}

pub fn alert_url(app_url: &str, id: i64) -> String {
    format!("{app_url}/alert/view?id={id}")
}

/// `#4712 PENDING HIGH "Checkout latency" · "Prometheus" → "Checkout on-call" · 2026-11-23T21:40:03Z · "Jonas Weber" (not accepted)`
pub fn alert_line(item: &AlertItem) -> String {
    let mut line = String::with_capacity(160);
    push_alert_line(&mut line, item);
    line
}

/// [`alert_line`], appended to `out` (lists build their text in one buffer).
pub fn push_alert_line(out: &mut String, item: &AlertItem) {
    // Numbers go through itoa: `write!` cost more than the rest of the line in lists.
    let mut digits = itoa::Buffer::new();
    out.push('#');
    out.push_str(digits.format(item.id));
    out.push(' ');
    out.push_str(&item.status);
    if let Some(p) = &item.priority {
        out.push(' ');
        out.push_str(p);
    }
    if let Some(s) = item.severity {
        out.push_str(" sev");
        out.push_str(digits.format(s));
    }
    out.push(' ');
    untrusted::push_quoted(out, &item.summary);
    // Names are third-party text too: quoted, so none can pass for the server's fields.
    if let Some(name) = item.source.as_ref().and_then(|s| s.name.as_deref()) {
        out.push_str(" · ");
        untrusted::push_quoted(out, name);
    }
    if let Some(name) = item.policy.as_ref().and_then(|p| p.name.as_deref()) {
        out.push_str(" → ");
        untrusted::push_quoted(out, name);
    }
    if let Some(t) = &item.reported_at {
        out.push_str(" · ");
        out.push_str(t);
    }
    // When it ended, so "resolved in the last day" can be read from the text alone.
    if let Some(t) = &item.resolved_at {
        out.push_str(" · resolved ");
        out.push_str(t);
    }
    for (i, r) in item.responders.iter().enumerate() {
        out.push_str(if i == 0 { " · " } else { ", " });
        untrusted::push_quoted(out, &r.name);
        out.push_str(" (");
        out.push_str(responder_state(&r.status));
        out.push(')');
    }
}

/// A responder's state in words. ilert's PENDING says the responder has not accepted; it says
/// nothing of whether a notification arrived (`get_alert` tells that), so "not accepted".
fn responder_state(status: &str) -> &str {
    match status {
        "PENDING" => "not accepted",
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
        assert_eq!(
            time(Some("2026-11-23T21:40:03Z")).as_deref(),
            Some("2026-11-23T21:40:03Z")
        );
        assert_eq!(
            time(Some("2026-11-23T21:40:03.000000Z")).as_deref(),
            Some("2026-11-23T21:40:03Z")
        );
        // Not the fast path's shape: the full parser decides.
        assert_eq!(
            time(Some("2026-11-23t21:40:03.5z")).as_deref(),
            Some("2026-11-23T21:40:03Z")
        );
        assert_eq!(
            time(Some("2026-13-23T21:40:03Z")).as_deref(),
            Some("2026-13-23T21:40:03Z")
        );
        assert_eq!(
            time(Some("2026-11-23T21:40:03.Z")),
            Some("2026-11-23T21:40:03.Z".into())
        );
        assert_eq!(time(Some("yesterday")).as_deref(), Some("yesterday"));
        assert_eq!(time(Some("")), None);
        assert_eq!(time(None), None);
    }

    #[test]
    fn alert_items_become_the_json_their_schema_describes() {
        let full = AlertItem {
            id: 4711,
            summary: "Checkout \"latency\"".into(),
            status: "PENDING".into(),
            priority: Some("HIGH".into()),
            severity: Some(2),
            source: Some(Ref {
                id: 1,
                name: Some("Prometheus".into()),
            }),
            policy: Some(Ref {
                id: 2,
                name: Some("Checkout on-call".into()),
            }),
            reported_at: Some("2026-11-23T21:40:03Z".into()),
            resolved_at: Some("2026-11-23T22:40:03Z".into()),
            responders: vec![
                Responder {
                    id: 7,
                    name: "Jonas Weber".into(),
                    status: "ACCEPTED".into(),
                    accepted_at: Some("2026-11-23T21:41:00Z".into()),
                },
                Responder {
                    id: 8,
                    name: "Ana".into(),
                    status: "PENDING".into(),
                    accepted_at: None,
                },
            ],
            url: Some("https://app.ilert.com/alert/view?id=4711".into()),
        };
        let bare = AlertItem {
            id: 1,
            summary: String::new(),
            status: "RESOLVED".into(),
            priority: None,
            severity: None,
            source: None,
            policy: None,
            reported_at: None,
            resolved_at: None,
            responders: Vec::new(),
            url: None,
        };
        // The summary's own quotes are escaped: it cannot close the quotes around it.
        assert_eq!(
            alert_line(&full),
            "#4711 PENDING HIGH sev2 \"Checkout \\\"latency\\\"\" · \"Prometheus\" → \"Checkout on-call\" · 2026-11-23T21:40:03Z · resolved 2026-11-23T22:40:03Z · \
             \"Jonas Weber\" (accepted), \"Ana\" (not accepted)"
        );
        assert_eq!(alert_line(&bare), "#1 RESOLVED \"\"");
        for item in [full, bare] {
            let derived = serde_json::to_value(&item).unwrap();
            assert_eq!(Value::from(item), derived);
        }
    }

    #[test]
    fn clip_counts_characters() {
        assert_eq!(clip("héllo", 10), ("héllo".to_owned(), false));
        assert_eq!(clip("héllo", 2), ("hé…".to_owned(), true));
    }
}
