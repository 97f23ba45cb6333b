//! What a person sees before an outward write: who is paged now and next, which status pages and
//! how many subscribers hear of it, which alerts change, the text that is published. Built only
//! when the person is asked (see [`crate::rules::confirm`]); a lookup that fails becomes a line
//! saying so, never a reason to act without asking. ilert APIs: `/on-calls`,
//! `/escalation-policies/{id}`, `/status-pages`, `/incidents/publish-info`, `/alerts`,
//! `/schedules/{id}/shifts`.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use ilert_client::{
    Alert, AlertQuery, AlertStatus, ApiError, IncidentWrite, OnCallQuery, Page, PublishInfo,
    Session,
};

use crate::rules::confirm::Preview;
use crate::rules::names::Named;
use crate::rules::times::{show, show_raw, wire};
use crate::rules::untrusted::{inline, quoted, quoted_block};

/// Raising an alert on `source`: the named `responders` only, or the source's escalation policy.
pub async fn paging(
    api: &Session,
    source: &Named,
    responders: &[Named],
    escalate: bool,
    summary: &str,
    priority: &str,
) -> Preview {
    let preview = Preview::new("Create alert: this pages people.").line(format!(
        "Alert: {} ({priority}) on alert source {}",
        quoted(summary),
        quoted(&source.name)
    ));
    if !escalate {
        return preview
            .line(format!("Paged now: {}", names(responders)))
            .line("Nobody else: with named responders alone the alert does not escalate.");
    }
    let preview = if responders.is_empty() {
        preview
    } else {
        preview.line(format!("Also paged now: {}", names(responders)))
    };
    escalation(api, source.policy_id, preview).await
}

/// Whom an assignment or a new responder reaches.
pub enum Assignee<'a> {
    User(&'a Named),
    Policy(&'a Named),
    Schedule(&'a Named),
}

/// Assigning `alert` (`replaces`: an assignment replaces the responders; adding one does not),
/// with whose acceptance it undoes, counted from the alert the server fetched.
pub async fn assignment(
    api: &Session,
    alert: &Alert,
    to: Assignee<'_>,
    replaces: bool,
    undone: &[String],
) -> Preview {
    let headline = if replaces {
        format!("Assign alert #{}: this notifies people.", alert.id)
    } else {
        format!(
            "Add a responder to alert #{}: this notifies them.",
            alert.id
        )
    };
    let status = alert.status.as_ref().map_or("?", |s| s.as_str());
    let mut preview = Preview::new(headline);
    if !undone.is_empty() {
        preview = preview.line(format!(
            "Undoes the acceptance by {}: the alert goes back to PENDING.",
            undone.join(", ")
        ));
    }
    preview = match to {
        Assignee::User(user) => preview.line(format!("Notified now: {}", quoted(&user.name))),
        Assignee::Schedule(schedule) => {
            let query = OnCallQuery {
                schedules: vec![schedule.id],
                ..Default::default()
            };
            let now: Vec<String> = match api.list_on_calls(&query).await {
                Ok(on_calls) => {
                    let mut people: Vec<String> = on_calls
                        .iter()
                        .filter_map(|o| o.user.as_ref().map(|u| quoted(&u.display_name())))
                        .collect();
                    people.dedup();
                    people
                }
                Err(_) => vec!["(ilert-mcp could not look it up now)".to_owned()],
            };
            preview.line(format!(
                "Notified now: {} (on call for schedule {})",
                list_or(&now, "nobody is on call"),
                quoted(&schedule.name)
            ))
        }
        Assignee::Policy(policy) => {
            let preview = preview.line(format!(
                "Escalation restarts on policy {}.",
                quoted(&policy.name)
            ));
            escalation(api, Some(policy.id), preview).await
        }
    };
    if replaces && !alert.responders.is_empty() {
        let current: Vec<String> = alert
            .responders
            .iter()
            .map(|r| quoted(&r.user.display_name()))
            .collect();
        preview = preview.line(format!("Replaces the responders: {}", current.join(", ")));
    }
    preview.line(format!(
        "Alert: #{} {status} {}",
        alert.id,
        quoted(alert.summary.as_deref().unwrap_or(""))
    ))
}

/// An event sent to an alert source (`source` is unknown when only an integration key was given).
pub async fn event(
    api: &Session,
    source: Option<&Named>,
    event_type: &str,
    summary: &str,
    alert_key: Option<&str>,
) -> Preview {
    let on = source.map_or_else(
        || "the alert source whose integration key was given".to_owned(),
        |s| format!("alert source {}", quoted(&s.name)),
    );
    let key = alert_key.map_or_else(String::new, |k| format!(", alert key {}", quoted(k)));
    let what = match event_type {
        "ALERT" => "raises an alert (or updates the open one with the same key) and pages people",
        "ACCEPT" => "accepts the open alert with this key",
        "RESOLVE" => "resolves the open alert with this key; it cannot be reopened",
        _ => "adds a comment to the open alert with this key",
    };
    let preview = Preview::new(format!("Send a {event_type} event: it {what}."))
        .line(format!("Event: {} on {on}{key}", quoted(summary)));
    if event_type != "ALERT" {
        return preview;
    }
    match source {
        Some(s) => escalation(api, s.policy_id, preview).await,
        None => preview.line("Who is paged: the escalation policy of that alert source decides."),
    }
}

/// Who the policy pages now (level 1) and next (level 2, after the first rule's timeout).
async fn escalation(api: &Session, policy: Option<i64>, preview: Preview) -> Preview {
    let Some(policy) = policy else {
        return preview
            .line("Who is paged: the alert source's escalation policy decides (unknown).");
    };
    let query = OnCallQuery {
        policies: vec![policy],
        ..Default::default()
    };
    let (on_calls, rules) =
        futures::join!(api.list_on_calls(&query), api.get_escalation_policy(policy));
    let (on_calls, rules) = match (on_calls, rules) {
        (Ok(on_calls), Ok(policy)) => (on_calls, policy),
        _ => {
            return preview.line(
                "Who is paged: its escalation policy decides (ilert-mcp could not look it up now).",
            );
        }
    };
    let at = |level: f64| -> Vec<String> {
        on_calls
            .iter()
            .filter(|o| o.escalation_level.unwrap_or(1.0) == level)
            .filter_map(|o| o.user.as_ref().map(|u| quoted(&u.display_name())))
            .collect()
    };
    let policy_name = rules
        .name
        .as_deref()
        .map_or_else(|| format!("policy {policy}"), quoted);
    let now = at(1.0);
    let mut preview = preview.line(format!(
        "Paged now: {} (level 1 of {policy_name})",
        list_or(&now, "nobody is on call at level 1")
    ));
    let next = at(2.0);
    if !next.is_empty() {
        let after = rules
            .escalation_rules
            .first()
            .and_then(|r| r.escalation_timeout)
            .map_or_else(String::new, |m| format!(" within {m} min"));
        preview = preview.line(format!(
            "Paged next, if nobody accepts{after}: {} (level 2)",
            next.join(", ")
        ));
    }
    preview
}

/// Text the model wrote, as one bounded block that states its length: a person reads what will
/// be published, or its first 2,000 characters and how much more there is.
fn model_text(label: &str, text: &str) -> String {
    let total = text.chars().count();
    let (shown, cut) = crate::rules::render::clip(text, crate::rules::render::MAX_DETAILS_CHARS);
    let size = if cut {
        format!(
            "{total} characters; the first {} shown",
            crate::rules::render::MAX_DETAILS_CHARS
        )
    } else {
        format!("{total} characters")
    };
    format!("{label} ({size}):\n{}", quoted_block(&shown, usize::MAX))
}

/// Publishing an incident (new, or an update of `existing`): the text, the status pages that show
/// the affected services, and how many subscribers are notified.
pub async fn incident(
    api: &Session,
    body: &IncidentWrite,
    existing: Option<i64>,
    info: Option<&PublishInfo>,
) -> Preview {
    let headline = match existing {
        None => "Create incident: this publishes on status pages.".to_owned(),
        Some(id) => format!("Update incident #{id}: this publishes on status pages."),
    };
    let mut preview = Preview::new(headline)
        .line(format!(
            "Headline: {} ({})",
            quoted(&body.summary),
            body.status
        ))
        .line(model_text(
            "Text subscribers read",
            body.message.as_deref().unwrap_or(""),
        ));
    let service_ids: Vec<i64> = body
        .affected_services
        .iter()
        .map(|a| a.service.id)
        .collect();
    match pages_showing(api, &service_ids).await {
        Ok(shown) => {
            preview = preview.line(format!(
                "Status pages showing it: {}",
                list_or(&shown, "none of your status pages shows these services")
            ));
        }
        Err(_) => preview = preview.line("Status pages: ilert-mcp could not list them now."),
    }
    let fetched;
    let info = match info {
        Some(info) => Some(info),
        None => {
            fetched = api.incident_publish_info(body).await.ok();
            fetched.as_ref()
        }
    };
    let line = match (body.send_notification, info) {
        (false, _) => "Subscribers: not notified (notify_subscribers is false).".to_owned(),
        (true, Some(i)) => format!(
            "Subscribers notified: {} public (on {} public page(s)) and {} private (on {} private page(s))",
            count(i.public_subscribers),
            count(i.public_status_pages),
            count(i.private_subscribers),
            count(i.private_status_pages)
        ),
        (true, None) => "Subscribers: notified (ilert-mcp could not count them now).".to_owned(),
    };
    preview.line(line)
}

/// The status pages showing any of `services`, as "Name (public)" or "Name (private)".
pub async fn pages_showing(api: &Session, services: &[i64]) -> Result<Vec<String>, ApiError> {
    let pages = api.list_status_pages(Page::new(0, 100)).await?;
    Ok(pages
        .iter()
        .filter(|p| p.services.iter().any(|s| services.contains(&s.id)))
        .map(|p| {
            format!(
                "{} ({})",
                p.name.as_deref().map_or_else(|| "unnamed".into(), quoted),
                inline(p.visibility.as_deref().unwrap_or("?")).to_lowercase()
            )
        })
        .collect())
}

/// Running an alert action: it acts outside ilert.
pub fn alert_action(alert: i64, name: &str, kind: Option<&str>) -> Preview {
    let kind = kind.map_or_else(String::new, |k| format!(" ({})", inline(k)));
    Preview::new("Run alert action: this acts outside ilert and cannot be undone.")
        .line(format!("Action: {}{kind} on alert #{alert}", quoted(name)))
}

/// A maintenance window: what it silences and when.
pub fn maintenance(
    summary: &str,
    (start, end, tz): (DateTime<Utc>, DateTime<Utc>, Tz),
    services: &[String],
    sources: &[String],
) -> Preview {
    let headline = if sources.is_empty() {
        "Create maintenance window: it silences no alerts, as it names no alert source; the \
         services only show as under maintenance."
    } else {
        "Create maintenance window: alerts from the alert sources it names are suppressed while it \
         runs, and only those."
    };
    let mut preview = Preview::new(headline).line(format!(
        "{} from {} to {}",
        quoted(summary),
        show(start, tz),
        show(end, tz)
    ));
    preview = preview.line(if sources.is_empty() {
        "Alert sources silenced: none (alerts keep paging people)".to_owned()
    } else {
        format!("Alert sources silenced: {}", sources.join(", "))
    });
    if !services.is_empty() {
        preview = preview.line(format!(
            "Services shown under maintenance (this alone silences nothing): {}",
            services.join(", ")
        ));
    }
    preview
}

/// An on-call override: who covers, and whom it replaces in that window.
pub async fn schedule_override(
    api: &Session,
    schedule: &Named,
    user: &Named,
    (start, end, tz): (DateTime<Utc>, DateTime<Utc>, Tz),
) -> Preview {
    let preview =
        Preview::new("Create schedule override: this changes who is woken.").line(format!(
            "{} is on call for {} from {} to {}",
            quoted(&user.name),
            quoted(&schedule.name),
            show(start, tz),
            show(end, tz)
        ));
    match api
        .schedule_shifts(schedule.id, &wire(start), &wire(end))
        .await
    {
        Ok(shifts) => {
            let replaced: Vec<String> = shifts
                .iter()
                .filter_map(|s| {
                    let who = quoted(&s.user.as_ref()?.display_name());
                    let from = show_raw(s.start.as_deref(), tz).unwrap_or_default();
                    let to = show_raw(s.end.as_deref(), tz).unwrap_or_default();
                    Some(format!("{who} ({from} to {to})"))
                })
                .collect();
            preview.line(format!(
                "In place of: {}",
                list_or(&replaced, "nobody (no shift in that window)")
            ))
        }
        Err(_) => preview.line("In place of: ilert-mcp could not read the shifts now."),
    }
}

/// Accepting or resolving several alerts: each one with its state and summary.
pub async fn alerts(api: &Session, ids: &[i64], verb: &str) -> Preview {
    let query = AlertQuery {
        states: vec![AlertStatus::Pending, AlertStatus::Accepted],
        max_results: 100,
        ..Default::default()
    };
    let open = api.list_alerts(&query).await.unwrap_or_default();
    let mut preview = Preview::new(format!("{verb} {} alerts at once:", ids.len()));
    for id in ids {
        let line = match open.iter().find(|a| a.id == *id) {
            Some(a) => format!(
                "#{id} {} {}",
                a.status.as_ref().map_or("?", |s| s.as_str()),
                quoted(a.summary.as_deref().unwrap_or(""))
            ),
            None => format!("#{id} (not among your open alerts: resolved, unknown or not visible)"),
        };
        preview = preview.line(line);
    }
    preview
}

fn names(people: &[Named]) -> String {
    people
        .iter()
        .map(|p| quoted(&p.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `items` joined by commas, or `empty` when there are none.
pub fn list_or(items: &[String], empty: &str) -> String {
    if items.is_empty() {
        empty.to_owned()
    } else {
        items.join(", ")
    }
}

fn count(n: Option<f64>) -> i64 {
    n.unwrap_or(0.0) as i64
}
