//! One alert, one incident, one schedule in full: the rendering that `get_alert`,
//! `get_incident`, ChatGPT's `fetch` and the `ilert://` resources share, so they read alike.

use std::collections::BTreeMap;

use chrono::Duration;
use ilert_client::{AlertStatus, ApiError, Incident, Session};
use schemars::JsonSchema;
use serde::Serialize;

use crate::rules::render::{self, AlertItem, Ref, time};
use crate::rules::times::{self, show_raw};
use crate::rules::untrusted;

/// One alert in full: what it is, who works on it, where escalation goes next.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AlertDetail {
    #[serde(flatten)]
    pub item: AlertItem,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// True when `details` was cut to 2,000 characters.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub details_truncated: bool,
    /// The de-duplication key events use to update this alert.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_key: Option<String>,
    /// When escalation moves to the next level if nobody accepts (open alerts only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_escalation_at: Option<String>,
    /// Who is notified at the next escalation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_escalation_user: Option<Ref>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linked_incident_id: Option<i64>,
    /// Whether anyone was reached, in one sentence the server counted from `notifications`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reached: Option<String>,
    /// Who was notified, on which channel, when, and whether it arrived (newest last).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<Notified>,
    /// Latest timeline entries (notifications, escalations, comments), oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<TimelineEntry>,
    /// Actions run_alert_action can run on this alert.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ActionRef>,
}

/// One notification of an alert (ilert `/alerts/{id}/notifications`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Notified {
    pub user: Ref,
    /// PUSH, SMS, VOICE, EMAIL, WHATSAPP or a chat channel.
    pub channel: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// SUCCESS (delivered), ERROR (failed) or SCHEDULED (not sent yet).
    pub status: String,
    /// ilert's reason for a failure (quoted third-party text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// At most this many notifications are listed (the newest); the sentence counts them all.
pub const MAX_NOTIFICATIONS: usize = 20;

/// Fills `reached` and `notifications` from ilert's list, oldest first.
pub fn add_notifications(d: &mut AlertDetail, list: &[ilert_client::Notification]) {
    let all = notified(list);
    let open = d.item.status != "RESOLVED";
    d.reached = Some(reach_sentence(&all, open));
    let skip = all.len().saturating_sub(MAX_NOTIFICATIONS);
    d.notifications = all.into_iter().skip(skip).collect();
}

/// ilert's notifications of an alert, each name and text through the untrusted-text boundary.
pub fn notified(list: &[ilert_client::Notification]) -> Vec<Notified> {
    list.iter()
        .map(|n| {
            let user = n.user.clone().unwrap_or_default();
            Notified {
                user: Ref {
                    id: user.id,
                    name: Some(untrusted::inline_owned(user.display_name())),
                },
                channel: untrusted::inline_owned(n.method.clone().unwrap_or_else(|| "?".into())),
                at: render::time(n.notification_time.as_deref()),
                status: untrusted::inline_owned(n.status.clone().unwrap_or_else(|| "?".into())),
                error: n
                    .error_message
                    .as_deref()
                    .filter(|e| !e.trim().is_empty())
                    .map(|e| untrusted::inline(e).into_owned()),
            }
        })
        .collect()
}

/// A flag for an open alert's line when its notifications reached nobody: none sent yet, or every
/// one failed. `None` when one arrived or some are still to be sent.
pub fn unreached(list: &[ilert_client::Notification]) -> Option<String> {
    if list.is_empty() {
        return Some("nobody notified yet: ilert lists no notification".to_owned());
    }
    let failed = list
        .iter()
        .filter(|n| n.status.as_deref() == Some("ERROR"))
        .count();
    (failed == list.len()).then(|| {
        format!(
            "nobody reached: all {failed} notification{} failed",
            if failed == 1 { "" } else { "s" }
        )
    })
}

/// For each of `alerts` (open, nobody accepted), [`unreached`] from its notification list: one
/// request each, at once. An alert whose list could not be read is left out (nothing is claimed).
pub async fn unreached_of(api: &Session, alerts: &[i64]) -> std::collections::HashMap<i64, String> {
    let lists =
        futures::future::join_all(alerts.iter().map(|id| api.alert_notifications(*id))).await;
    alerts
        .iter()
        .zip(lists)
        .filter_map(|(id, list)| Some((*id, unreached(&list.ok()?)?)))
        .collect()
}

/// "Reached: ...", or "Nobody was reached: ..." when no notification arrived.
pub fn reach_sentence(all: &[Notified], open: bool) -> String {
    if all.is_empty() {
        return if open {
            "Nobody has been notified yet: ilert lists no notification for this alert.".to_owned()
        } else {
            "ilert lists no notification for this alert.".to_owned()
        };
    }
    let name = |n: &Notified| {
        n.user
            .name
            .as_deref()
            .map_or_else(|| format!("user {}", n.user.id), untrusted::quoted)
    };
    // Per person, in order of first notification: the channels that arrived.
    let mut delivered: Vec<(String, Vec<String>)> = Vec::new();
    for n in all.iter().filter(|n| n.status == "SUCCESS") {
        let who = name(n);
        let at = n.at.as_deref().unwrap_or("?");
        let how = format!("{} at {at}", n.channel);
        match delivered.iter_mut().find(|(w, _)| *w == who) {
            Some((_, hows)) => hows.push(how),
            None => delivered.push((who, vec![how])),
        }
    }
    let failed: Vec<String> = all
        .iter()
        .filter(|n| n.status == "ERROR")
        .map(|n| {
            let why = n
                .error
                .as_deref()
                .map_or_else(String::new, |e| format!(": {}", untrusted::quoted(e)));
            format!("{} to {}{why}", n.channel, name(n))
        })
        .collect();
    let scheduled = all.iter().filter(|n| n.status == "SCHEDULED").count();
    let mut text = if delivered.is_empty() {
        format!(
            "Nobody was reached: none of the {} notifications arrived.",
            all.len()
        )
    } else {
        let people: Vec<String> = delivered
            .iter()
            .map(|(who, hows)| format!("{who} ({})", hows.join(", ")))
            .collect();
        format!("Reached: {}.", people.join("; "))
    };
    if !failed.is_empty() {
        text.push_str(&format!(" Failed: {}.", failed.join("; ")));
    }
    if scheduled > 0 {
        text.push_str(&format!(" {scheduled} scheduled, not sent yet."));
    }
    text
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TimelineEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    pub text: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ActionRef {
    pub id: String,
    pub name: String,
    /// Its type (`jira`, `slack`...) and how often it ran on this alert: in the text only, to
    /// keep the schema in the tools/list budget.
    #[serde(skip)]
    pub kind: Option<String>,
    #[serde(skip)]
    pub runs: usize,
}

/// Timeline entries kept in get_alert's answer; the rest are counted, not dropped silently.
pub const TIMELINE_ENTRIES: usize = 15;

/// The most state entries (escalations, acceptance, resolve...) that may take the place of newer
/// comments in [`set_timeline`].
const STATE_KEPT: usize = 5;

/// The page of log entries the tools read (ilert's cap): a full one may be part of the timeline.
pub const LOG_PAGE: usize = 100;

/// Puts the latest [`TIMELINE_ENTRIES`] of an alert's log entries (comments, who accepted, who
/// resolved...) in `detail`, oldest first, and says how many earlier ones were left out. Comments
/// give way first: up to [`STATE_KEPT`] older state entries are kept in place of the oldest
/// comments, so a flood of comments (an alert source's events can add any number) cannot push
/// who accepted it out of sight. A full page of entries is said to be read in part.
pub fn set_timeline(
    detail: &mut AlertDetail,
    mut entries: Vec<ilert_client::LogEntry>,
) -> Option<String> {
    // ilert's order is not documented: sort oldest first (ISO-8601 UTC sorts as text, and the id
    // breaks ties), then keep the latest.
    entries.sort_by(|a, b| (a.timestamp.as_deref(), a.id).cmp(&(b.timestamp.as_deref(), b.id)));
    let is_comment = |e: &ilert_client::LogEntry| {
        e.log_entry_type.as_deref() == Some("AlertCommentAddedLogEntry")
    };
    let skipped = entries.len().saturating_sub(TIMELINE_ENTRIES);
    let comments: Vec<bool> = entries.iter().map(is_comment).collect();
    let mut keep: Vec<bool> = (0..entries.len()).map(|i| i >= skipped).collect();
    let older_state: Vec<usize> = comments
        .iter()
        .enumerate()
        .take(skipped)
        .rev()
        .filter(|(_, c)| !**c)
        .map(|(i, _)| i)
        .take(STATE_KEPT)
        .collect();
    for i in older_state {
        // The oldest comment still kept gives way.
        let Some(c) = keep
            .iter()
            .zip(&comments)
            .enumerate()
            .skip(skipped)
            .find(|(_, (k, c))| **k && **c)
            .map(|(c, _)| c)
        else {
            break;
        };
        for (at, to) in [(c, false), (i, true)] {
            if let Some(k) = keep.get_mut(at) {
                *k = to;
            }
        }
    }
    detail.timeline = entries
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(e, _)| TimelineEntry {
            at: render::time(e.timestamp.as_deref()),
            // Log entries quote comments and event text: third-party text.
            text: untrusted::inline_owned(
                e.text
                    .clone()
                    .or_else(|| e.log_entry_type.clone())
                    .unwrap_or_default(),
            ),
        })
        .collect();
    let left_out = keep.iter().filter(|k| !**k).count();
    let mut note = (left_out > 0).then(|| {
        format!("{left_out} timeline entries not shown (comments left out before other entries).")
    });
    if entries.len() >= LOG_PAGE {
        note = Some(format!(
            "{} Only {LOG_PAGE} timeline entries were read (ilert's page); older ones, such as \
             the alert's creation or acceptance, may be missing.",
            note.unwrap_or_default()
        ));
    }
    note
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct LinkOut {
    pub href: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

pub fn alert_detail(alert: &ilert_client::Alert, app_url: &str) -> AlertDetail {
    let (details, details_truncated) =
        match alert.details.as_deref().filter(|d| !d.trim().is_empty()) {
            Some(d) => {
                let (text, cut) = render::clip(d, render::MAX_DETAILS_CHARS);
                (Some(untrusted::block(&text, usize::MAX).into_owned()), cut)
            }
            None => (None, false),
        };
    let open = alert
        .status
        .as_ref()
        .is_some_and(|s| *s != AlertStatus::Resolved);
    AlertDetail {
        item: render::alert_item(alert.into(), Some(app_url)),
        details,
        details_truncated,
        alert_key: alert
            .alert_key
            .clone()
            .filter(|k| !k.is_empty())
            .map(untrusted::inline_owned),
        next_escalation_at: render::time(alert.next_escalation.as_deref()).filter(|_| open),
        next_escalation_user: alert
            .next_escalation_user
            .as_ref()
            .filter(|_| open)
            .map(|u| Ref {
                id: u.id,
                name: Some(untrusted::inline_owned(u.display_name())),
            }),
        labels: alert
            .labels
            .iter()
            .flatten()
            .map(|(k, v)| {
                (
                    untrusted::inline_owned(k.clone()),
                    untrusted::inline_owned(v.clone()),
                )
            })
            .collect(),
        reached: None,
        notifications: Vec::new(),
        timeline: Vec::new(),
        actions: Vec::new(),
        links: alert
            .links
            .iter()
            .filter_map(|l| {
                // Only http(s) addresses are links; a `javascript:` or `data:` one is dropped.
                Some(LinkOut {
                    href: untrusted::link(l.href.as_deref()?)?.into_owned(),
                    text: l.text.as_deref().map(|t| untrusted::inline(t).into_owned()),
                })
            })
            .collect(),
        linked_incident_id: alert.linked_incident_id,
    }
}

pub fn detail_text(d: &AlertDetail) -> String {
    let mut text = render::alert_line(&d.item);
    // Whether the page arrived comes first: it decides what to do next.
    if let Some(reached) = &d.reached {
        text.push('\n');
        text.push_str(reached);
    }
    if let (Some(at), Some(user)) = (&d.next_escalation_at, &d.next_escalation_user) {
        text.push_str(&format!(
            "\nNext escalation: {} at {at}",
            user.name
                .as_deref()
                .map_or_else(|| "?".into(), untrusted::quoted)
        ));
    }
    // Third-party text: details behind a quote bar, values in quotes (rules/untrusted.rs).
    if let Some(details) = &d.details {
        text.push_str("\nDetails (as the alert source sent them):\n");
        text.push_str(&untrusted::quoted_block(details, usize::MAX));
    }
    if !d.labels.is_empty() {
        let labels: Vec<String> = d
            .labels
            .iter()
            .map(|(k, v)| format!("{}={}", untrusted::quoted(k), untrusted::quoted(v)))
            .collect();
        text.push_str(&format!("\nLabels: {}", labels.join(", ")));
    }
    for link in &d.links {
        let label = link.text.as_deref().map(untrusted::quoted);
        text.push_str(&format!(
            "\nLink: {} {}",
            label.as_deref().unwrap_or(""),
            link.href
        ));
    }
    if !d.timeline.is_empty() {
        // Comments and ilert's event lines, quoted: whoever wrote a comment wrote that text.
        text.push_str("\nTimeline:");
        for e in &d.timeline {
            text.push_str(&format!(
                "\n  {} {}",
                e.at.as_deref().unwrap_or("?"),
                untrusted::quoted(&e.text)
            ));
        }
    }
    if !d.actions.is_empty() {
        // What each is and whether it already ran, so the model can judge before run_alert_action.
        let names: Vec<String> = d
            .actions
            .iter()
            .map(|a| {
                let mut about: Vec<String> = a
                    .kind
                    .iter()
                    .map(|k| untrusted::inline(k).into_owned())
                    .collect();
                match a.runs {
                    0 => about.push("not run yet".into()),
                    1 => about.push("ran once".into()),
                    n => about.push(format!("ran {n} times")),
                }
                format!("{} ({})", untrusted::quoted(&a.name), about.join(", "))
            })
            .collect();
        text.push_str(&format!("\nActions: {}", names.join(", ")));
    }
    text.push_str(&format!("\n{}", d.item.url.as_deref().unwrap_or_default()));
    text
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct IncidentOut {
    pub id: i64,
    pub summary: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Affected services as "Name: IMPACT".
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    /// The affected services as the text shows them: `"Name": IMPACT`.
    #[serde(skip)]
    pub services_shown: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<String>,
    /// Status updates, oldest first (get_incident only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub updates: Vec<UpdateOut>,
    pub url: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UpdateOut {
    pub status: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

pub fn incident_url(app_url: &str, id: i64) -> String {
    format!("{app_url}/incident/view?id={id}")
}

pub fn incident_out(i: &Incident, app_url: &str) -> IncidentOut {
    let affected: Vec<(String, String)> = i
        .affected_services
        .iter()
        .map(|a| {
            (
                a.service.name.as_deref().map_or_else(
                    || format!("service {}", a.service.id),
                    |n| untrusted::inline(n).into_owned(),
                ),
                untrusted::inline(a.impact.as_deref().unwrap_or("?")).into_owned(),
            )
        })
        .collect();
    IncidentOut {
        id: i.id,
        summary: untrusted::inline_owned(i.summary.clone().unwrap_or_default()),
        status: i.status.clone().unwrap_or_else(|| "UNKNOWN".into()),
        message: i
            .message
            .as_deref()
            .filter(|m| !m.is_empty())
            .map(|m| untrusted::block(m, render::MAX_DETAILS_CHARS).into_owned()),
        services: affected
            .iter()
            .map(|(name, impact)| format!("{name}: {impact}"))
            .collect(),
        services_shown: affected
            .iter()
            .map(|(name, impact)| format!("{}: {impact}", untrusted::quoted(name)))
            .collect(),
        created_at: time(i.created_at.as_deref()),
        updated_at: time(i.updated_at.as_deref()),
        resolved_at: time(i.resolved_on.as_deref()),
        updates: i
            .history
            .iter()
            .map(|u| UpdateOut {
                status: u.incident_status.clone().unwrap_or_default(),
                message: untrusted::block(
                    u.content.as_deref().unwrap_or_default(),
                    render::MAX_DETAILS_CHARS,
                )
                .into_owned(),
                by: u
                    .creator
                    .as_ref()
                    .map(|c| untrusted::inline_owned(c.display_name())),
                at: time(u.created_at.as_deref()),
            })
            .collect(),
        url: incident_url(app_url, i.id),
    }
}

pub fn incident_line(i: &IncidentOut) -> String {
    let services = if i.services_shown.is_empty() {
        "no services".to_owned()
    } else {
        i.services_shown.join(", ")
    };
    let opened = i.created_at.as_deref().unwrap_or("?");
    // A resolved incident is not "since" anything: it ran from its start to its resolution.
    let when = match (&i.resolved_at, i.status.as_str()) {
        (Some(resolved), "RESOLVED") => match lasted(opened, resolved) {
            Some(d) => format!("{opened} to {resolved} ({d})"),
            None => format!("{opened} to {resolved}"),
        },
        _ => format!("open since {opened}"),
    };
    format!(
        "#{} {} {} · {services} · {when}",
        i.id,
        i.status,
        untrusted::quoted(&i.summary)
    )
}

/// How long from `start` to `end` (both RFC 3339), for people: "1h 35m".
fn lasted(start: &str, end: &str) -> Option<String> {
    let start = chrono::DateTime::parse_from_rfc3339(start).ok()?;
    let end = chrono::DateTime::parse_from_rfc3339(end).ok()?;
    (end >= start).then(|| crate::rules::times::human(end - start))
}

pub fn incident_text(i: &IncidentOut) -> String {
    let mut text = incident_line(i);
    for u in &i.updates {
        text.push_str(&format!(
            "\n  {} {} ({}):\n{}",
            u.at.as_deref().unwrap_or("?"),
            untrusted::inline(&u.status),
            u.by.as_deref()
                .map_or_else(|| "?".into(), untrusted::quoted),
            untrusted::quoted_block(&u.message, usize::MAX)
        ));
    }
    text.push_str(&format!("\n{}", i.url));
    text
}

/// A schedule and its shifts for the next 7 days, in its own time zone.
pub async fn schedule_text(api: &Session, id: i64) -> Result<String, ApiError> {
    let schedule = api.get_schedule(id).await?;
    let tz = schedule
        .timezone
        .as_deref()
        .and_then(|t| t.parse().ok())
        .unwrap_or(chrono_tz::Tz::UTC);
    let now = times::now();
    let shifts = api
        .schedule_shifts(id, &times::wire(now), &times::wire(now + Duration::days(7)))
        .await?;
    let mut text = format!(
        "{} (id {id}), time zone {}, next 7 days:",
        untrusted::quoted(&schedule.name.unwrap_or_default()),
        tz.name()
    );
    for s in shifts {
        text.push_str(&format!(
            "\n{} → {}: {}",
            show_raw(s.start.as_deref(), tz).unwrap_or_default(),
            show_raw(s.end.as_deref(), tz).unwrap_or_default(),
            s.user
                .map(|u| untrusted::quoted(&u.display_name()))
                .unwrap_or_else(|| "nobody".into())
        ));
    }
    Ok(text)
}

/// Why the resource `uri` could not be read, as a sentence: missing or hidden, or the error
/// explained as tools explain it.
pub fn unreadable(error: ApiError, uri: &str) -> String {
    match error {
        ApiError::NotFound { .. } => format!("{uri} does not exist or is not visible to you"),
        other => crate::rules::explain(&other, uri),
    }
}

#[cfg(test)]
mod timeline_tests {
    use super::*;

    fn entry(id: i64, minute: u32, kind: &str, text: &str) -> ilert_client::LogEntry {
        serde_json::from_value(serde_json::json!({
            "id": id, "timestamp": format!("2026-12-07T02:{minute:02}:00Z"),
            "logEntryType": kind, "text": text
        }))
        .unwrap()
    }

    #[test]
    fn a_comment_flood_does_not_hide_who_accepted() {
        let mut entries = vec![
            entry(1, 0, "AlertCreatedLogEntry", "New alert received"),
            entry(2, 1, "AlertAcceptedLogEntry", "Alert accepted by Ana Lima."),
        ];
        for i in 0..30 {
            entries.push(entry(
                10 + i,
                2 + i as u32,
                "AlertCommentAddedLogEntry",
                "still on it",
            ));
        }
        let alert: ilert_client::Alert =
            serde_json::from_value(serde_json::json!({"id": 1})).unwrap();
        let mut d = alert_detail(&alert, "https://app.ilert.com");
        let note = set_timeline(&mut d, entries).unwrap();
        assert_eq!(d.timeline.len(), TIMELINE_ENTRIES);
        assert!(
            d.timeline[1].text.contains("accepted by Ana Lima"),
            "{:?}",
            d.timeline
        );
        assert!(d.timeline[0].text.contains("New alert"), "oldest first");
        assert!(note.starts_with("17 timeline entries not shown"), "{note}");
        assert!(!note.contains("Only 100"), "{note}");
    }
}
