//! Shift handovers and postmortem drafts (issue 25 §1, §2): the facts an engineer writes down at
//! the end of a shift or after an incident, computed from alerts, timelines, notifications and
//! status updates. Every figure carries the ids it comes from; nothing here guesses a cause.
//! Changes of state are counted by when they happened (the accept and resolve entries of the
//! timeline, else `acceptedAt` and `resolvedOn`), never by when the alert was reported.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use ilert_client::{Alert, AlertStatus, Incident, LogEntry, Notification, OnCall};

use crate::rules::times::{self, read, show};
use crate::rules::untrusted::{self, quoted};

/// The longest handover window asked for by hours.
pub const MAX_HOURS: i64 = 72;
/// How far before the window alerts are read to find the ones that changed state in it.
pub const LOOKBACK_DAYS: i64 = 7;
/// Pages of 100 alerts read at most for one list.
pub const MAX_PAGES: u32 = 5;
/// Timelines read at most for a handover (who accepted and resolved).
pub const MAX_TIMELINES: usize = 10;
/// Alerts of an incident whose timelines and notifications a postmortem reads.
pub const MAX_INCIDENT_ALERTS: usize = 5;
/// Alerts of an incident's sources counted from this long before it opened.
pub const INCIDENT_LEAD_MINUTES: i64 = 60;
/// A wait for an accept this long or longer is a gap worth writing down.
const GAP_MINUTES: i64 = 5;
/// Ids listed in one line before "and N more".
const IDS_SHOWN: usize = 15;

/// `[from, until]`, both ends inclusive.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl Window {
    pub fn holds(&self, raw: Option<&str>) -> bool {
        read(raw).is_some_and(|t| self.from <= t && t <= self.until)
    }
}

/// The caller's current shift (the one under way that started last), else the one that ended
/// last; its index in `on_calls`.
pub fn pick_shift(on_calls: &[OnCall], now: DateTime<Utc>) -> Option<usize> {
    let span = |o: &OnCall| Some((read(o.start.as_deref())?, read(o.end.as_deref())?));
    let current = on_calls
        .iter()
        .enumerate()
        .filter_map(|(i, o)| span(o).map(|s| (i, s)))
        .filter(|(_, (s, e))| *s <= now && now < *e)
        .max_by_key(|(_, (s, e))| (*s, std::cmp::Reverse(*e)));
    let past = || {
        on_calls
            .iter()
            .enumerate()
            .filter_map(|(i, o)| span(o).map(|s| (i, s)))
            .filter(|(_, (_, e))| *e <= now)
            .max_by_key(|(_, (_, e))| *e)
    };
    current.or_else(past).map(|(i, _)| i)
}

/// "level 1 of "Checkout on-call" (schedule "Checkout primary")".
pub fn on_call_role(o: &OnCall) -> String {
    let mut out = format!(
        "level {} of {}",
        o.escalation_level.unwrap_or(1.0) as i64,
        o.escalation_policy
            .as_ref()
            .map(|p| named(p.name.as_deref(), p.id, "policy"))
            .unwrap_or_else(|| "an escalation policy".into())
    );
    if let Some(s) = &o.schedule {
        out.push_str(&format!(
            " (schedule {})",
            named(s.name.as_deref(), s.id, "schedule")
        ));
    }
    out
}

fn named(name: Option<&str>, id: i64, kind: &str) -> String {
    match name {
        Some(n) if !n.trim().is_empty() => quoted(n),
        _ => format!("{kind} {id}"),
    }
}

fn person(name: String) -> String {
    quoted(&name)
}

/// `IDENTIFIED by "Jonas Weber", sent to subscribers: "…"`: one status update, the same in the
/// handover and the draft; `unsent` is what to say when it went to nobody.
fn update_text(u: &ilert_client::IncidentUpdate, unsent: &str) -> String {
    format!(
        "{} by {}{}: {}",
        u.incident_status.as_deref().unwrap_or("?"),
        u.creator
            .as_ref()
            .map(|c| person(c.display_name()))
            .unwrap_or_else(|| "?".into()),
        if u.send_notification == Some(true) {
            ", sent to subscribers"
        } else {
            unsent
        },
        quoted(u.content.as_deref().unwrap_or(""))
    )
}

pub fn ids_text(ids: &[i64]) -> String {
    if ids.is_empty() {
        return "none".into();
    }
    let shown: Vec<String> = ids.iter().take(IDS_SHOWN).map(i64::to_string).collect();
    match ids.len().saturating_sub(IDS_SHOWN) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

fn minutes(d: Duration) -> String {
    let m = d.num_minutes().max(0);
    if m < 120 {
        format!("{m} min")
    } else {
        times::human(d)
    }
}

fn first_accept(a: &Alert) -> Option<(DateTime<Utc>, String)> {
    a.responders
        .iter()
        .filter_map(|r| Some((read(r.accepted_at.as_deref())?, r.user.display_name())))
        .min_by_key(|(t, _)| *t)
}

/// Alerts accepted or resolved within `w`, by the moment of the change; each once, newest change
/// first.
pub fn changed_in<'a>(alerts: impl IntoIterator<Item = &'a Alert>, w: &Window) -> Vec<&'a Alert> {
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<(&Alert, DateTime<Utc>)> = alerts
        .into_iter()
        .filter(|a| seen.insert(a.id))
        .filter_map(|a| {
            let mut moments: Vec<DateTime<Utc>> = a
                .responders
                .iter()
                .filter_map(|r| read(r.accepted_at.as_deref()))
                .collect();
            moments.extend(read(a.resolved_on.as_deref()));
            let last = moments
                .into_iter()
                .filter(|t| w.from <= *t && *t <= w.until)
                .max()?;
            Some((a, last))
        })
        .collect();
    out.sort_by_key(|(a, t)| std::cmp::Reverse((*t, a.id)));
    out.into_iter().map(|(a, _)| a).collect()
}

/// The accept and resolve entries of a timeline within `w`, oldest first.
fn responses_in<'a>(entries: &'a [LogEntry], w: &Window) -> Vec<&'a LogEntry> {
    let mut out: Vec<&LogEntry> = entries
        .iter()
        .filter(|e| {
            matches!(
                e.log_entry_type.as_deref(),
                Some("UserResponseLogEntry" | "AlertSourceResponseLogEntry")
            ) && w.holds(e.timestamp.as_deref())
        })
        .collect();
    out.sort_by_key(|e| (read(e.timestamp.as_deref()), e.id));
    out
}

/// Everything a handover says, gathered by the tool.
pub struct Handover<'a> {
    pub me: String,
    pub window: Window,
    /// "your shift, level 1 of ..." or "the last 8 hours".
    pub basis: String,
    /// Which alerts: "of "Checkout on-call"" or "of all escalation policies".
    pub scope: String,
    pub arrived: &'a [Alert],
    pub open: &'a [Alert],
    pub changed: Vec<&'a Alert>,
    pub timelines: &'a HashMap<i64, Vec<LogEntry>>,
    pub incidents: &'a [Incident],
    pub next: Vec<String>,
    pub notes: Vec<String>,
    pub tz: Tz,
    /// Open alerts nobody accepted whose notifications reached nobody
    /// ([`crate::rules::details::unreached`]); the first 20 such alerts are looked at.
    pub unreached: HashMap<i64, String>,
}

fn state(a: &Alert) -> &str {
    a.status.as_ref().map(AlertStatus::as_str).unwrap_or("?")
}

fn summary(a: &Alert) -> String {
    quoted(a.summary.as_deref().unwrap_or(""))
}

/// Who has an open alert: who accepted it, else who was notified, else its next escalation.
fn holder(a: &Alert) -> String {
    let accepted: Vec<String> = a
        .responders
        .iter()
        .filter(|r| r.status.as_deref() == Some("ACCEPTED"))
        .map(|r| person(r.user.display_name()))
        .collect();
    if !accepted.is_empty() {
        return format!("accepted by {}", accepted.join(", "));
    }
    let pending: Vec<String> = a
        .responders
        .iter()
        .map(|r| person(r.user.display_name()))
        .collect();
    if !pending.is_empty() {
        return format!("nobody accepted; assigned to {}", pending.join(", "));
    }
    "nobody accepted and nobody is assigned".into()
}

pub fn handover_text(h: &Handover<'_>) -> String {
    let tz = h.tz;
    let w = &h.window;
    let mut out = format!(
        "Handover for {}: {}, {} ({}). Alerts {}.\n",
        h.me,
        h.basis,
        times::window(Some(w.from), Some(w.until), tz),
        times::human(w.until - w.from),
        h.scope
    );
    // What came in.
    let by_state = |list: &[&Alert], s: AlertStatus| -> Vec<i64> {
        list.iter()
            .filter(|a| a.status.as_ref() == Some(&s))
            .map(|a| a.id)
            .collect()
    };
    let arrived: Vec<&Alert> = h.arrived.iter().collect();
    let ids: Vec<i64> = arrived.iter().map(|a| a.id).collect();
    out.push_str(&format!(
        "\nCame in: {} alert(s) reported in the window: {}.",
        ids.len(),
        ids_text(&ids)
    ));
    if !ids.is_empty() {
        out.push_str(&format!(
            " Now {} pending ({}), {} accepted ({}), {} resolved ({}).",
            by_state(&arrived, AlertStatus::Pending).len(),
            ids_text(&by_state(&arrived, AlertStatus::Pending)),
            by_state(&arrived, AlertStatus::Accepted).len(),
            ids_text(&by_state(&arrived, AlertStatus::Accepted)),
            by_state(&arrived, AlertStatus::Resolved).len(),
            ids_text(&by_state(&arrived, AlertStatus::Resolved)),
        ));
    }
    // Still open.
    out.push_str(&format!(
        "\n\nStill open: {} alert(s){}",
        h.open.len(),
        if h.open.is_empty() { "." } else { ":" }
    ));
    for a in h.open {
        out.push_str(&format!(
            "\n- {} {} {}, reported {}; {}.",
            a.id,
            state(a),
            summary(a),
            times::show_raw(a.report_time.as_deref(), tz).unwrap_or_else(|| "?".into()),
            match h.unreached.get(&a.id) {
                Some(how) => format!("{}; {how}", holder(a)),
                None => holder(a),
            }
        ));
    }
    // Changed state in the window.
    let accepted: Vec<i64> = h
        .changed
        .iter()
        .filter(|a| {
            a.responders
                .iter()
                .any(|r| w.holds(r.accepted_at.as_deref()))
        })
        .map(|a| a.id)
        .collect();
    let resolved: Vec<i64> = h
        .changed
        .iter()
        .filter(|a| w.holds(a.resolved_on.as_deref()))
        .map(|a| a.id)
        .collect();
    out.push_str(&format!(
        "\n\nChanged state in the window (by when it happened): {} alert(s); {} accepted ({}), {} resolved ({}){}",
        h.changed.len(),
        accepted.len(),
        ids_text(&accepted),
        resolved.len(),
        ids_text(&resolved),
        if h.changed.is_empty() { "." } else { ":" }
    ));
    for a in &h.changed {
        let line = match h.timelines.get(&a.id) {
            Some(entries) => {
                let said: Vec<String> = responses_in(entries, w)
                    .iter()
                    .map(|e| {
                        format!(
                            "{} ilert: {}",
                            times::show_raw(e.timestamp.as_deref(), tz).unwrap_or_default(),
                            quoted(e.text.as_deref().unwrap_or(""))
                        )
                    })
                    .collect();
                said.join("; ")
            }
            None => {
                let mut parts: Vec<String> = a
                    .responders
                    .iter()
                    .filter(|r| w.holds(r.accepted_at.as_deref()))
                    .map(|r| {
                        format!(
                            "accepted {} by {}",
                            times::show_raw(r.accepted_at.as_deref(), tz).unwrap_or_default(),
                            person(r.user.display_name())
                        )
                    })
                    .collect();
                if w.holds(a.resolved_on.as_deref()) {
                    parts.push(format!(
                        "resolved {} (by whom: timeline not read)",
                        times::show_raw(a.resolved_on.as_deref(), tz).unwrap_or_default()
                    ));
                }
                parts.join("; ")
            }
        };
        out.push_str(&format!("\n- {} {}: {line}", a.id, summary(a)));
    }
    // Status updates.
    let mut updates = Vec::new();
    for i in h.incidents {
        for u in &i.history {
            if w.holds(u.created_at.as_deref()) {
                updates.push((read(u.created_at.as_deref()), i, u));
            }
        }
    }
    updates.sort_by_key(|(t, i, _)| (*t, i.id));
    out.push_str(&format!(
        "\n\nStatus updates posted in the window: {}{}",
        updates.len(),
        if updates.is_empty() { "." } else { ":" }
    ));
    for (_, i, u) in &updates {
        out.push_str(&format!(
            "\n- incident {} {}: {} {}",
            i.id,
            quoted(i.summary.as_deref().unwrap_or("")),
            times::show_raw(u.created_at.as_deref(), tz).unwrap_or_default(),
            update_text(u, "")
        ));
    }
    // Next on call.
    out.push_str("\n\nOn call next:");
    if h.next.is_empty() {
        out.push_str(" nobody found.");
    }
    for n in &h.next {
        out.push_str(&format!("\n- {n}"));
    }
    for n in &h.notes {
        out.push_str(&format!("\n{n}"));
    }
    out
}

/// The handover's ids as structured content, for programs: the window and what the text cites.
pub fn handover_facts(h: &Handover<'_>) -> serde_json::Value {
    let ids = |list: &mut dyn Iterator<Item = i64>| list.collect::<Vec<i64>>();
    let w = &h.window;
    serde_json::json!({
        "from": show(w.from, h.tz),
        "until": show(w.until, h.tz),
        "came_in": ids(&mut h.arrived.iter().map(|a| a.id)),
        "still_open": ids(&mut h.open.iter().map(|a| a.id)),
        "accepted": ids(&mut h.changed.iter().filter(|a| {
            a.responders.iter().any(|r| w.holds(r.accepted_at.as_deref()))
        }).map(|a| a.id)),
        "resolved": ids(&mut h.changed.iter().filter(|a| w.holds(a.resolved_on.as_deref())).map(|a| a.id)),
        "incidents_updated": ids(&mut h.incidents.iter().filter(|i| {
            i.history.iter().any(|u| w.holds(u.created_at.as_deref()))
        }).map(|i| i.id)),
    })
}

/// The draft's ids as structured content: the incident and the alerts it is written from.
pub fn postmortem_facts(p: &Postmortem<'_>) -> serde_json::Value {
    serde_json::json!({
        "incident": p.incident.map(|i| i.id),
        "alerts": p.alerts.iter().map(|r| r.alert.id).collect::<Vec<i64>>(),
    })
}

/// Who covers `role`'s level of its policy at `at` (or next after it), from on-call entries.
pub fn next_line(
    entries: &[OnCall],
    policy: i64,
    level: i64,
    at: DateTime<Utc>,
    tz: Tz,
) -> Option<String> {
    let o = entries
        .iter()
        .filter(|o| o.escalation_policy.as_ref().map(|p| p.id) == Some(policy))
        .filter(|o| o.escalation_level.unwrap_or(1.0) as i64 == level)
        .filter(|o| read(o.end.as_deref()).is_some_and(|e| e > at))
        .min_by_key(|o| read(o.start.as_deref()))?;
    let start = read(o.start.as_deref())?.max(at);
    Some(format!(
        "{}: {} from {} until {}",
        on_call_role(o),
        o.user
            .as_ref()
            .map(|u| person(u.display_name()))
            .unwrap_or_else(|| "nobody".into()),
        show(start, tz),
        times::show_raw(o.end.as_deref(), tz).unwrap_or_else(|| "?".into())
    ))
}

// ---------------------------------------------------------------------------------------------
// Postmortem drafts.

/// One alert with what was read of it.
pub struct AlertRecord<'a> {
    pub alert: &'a Alert,
    pub log: Option<&'a [LogEntry]>,
    pub notifications: Option<&'a [Notification]>,
}

/// What a postmortem draft is written from.
pub struct Postmortem<'a> {
    pub incident: Option<&'a Incident>,
    pub alerts: Vec<AlertRecord<'a>>,
    /// How the alerts were chosen, said in the draft.
    pub alerts_basis: String,
    pub now: DateTime<Utc>,
    pub tz: Tz,
    pub notes: Vec<String>,
}

/// The escalation level an `AlertEscalatedToLevelLogEntry` names ("... level 2 of ...").
fn level_of(text: &str) -> Option<i64> {
    let rest = &text[text.find("level ")? + 6..];
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

pub fn postmortem_markdown(p: &Postmortem<'_>) -> String {
    let tz = p.tz;
    let t = |raw: Option<&str>| times::show_raw(raw, tz).unwrap_or_else(|| "?".into());
    let mut out = String::new();
    match (p.incident, p.alerts.first()) {
        (Some(i), _) => out.push_str(&format!(
            "# Postmortem draft: incident {} {}\n",
            i.id,
            quoted(i.summary.as_deref().unwrap_or(""))
        )),
        (None, Some(a)) => out.push_str(&format!(
            "# Postmortem draft: alert {} {}\n",
            a.alert.id,
            summary(a.alert)
        )),
        (None, None) => out.push_str("# Postmortem draft\n"),
    }
    out.push_str(
        "\n_Drafted from ilert's records: facts only, no causes. Text in double quotes is third-party text quoted from ilert, not the server's words._\n",
    );
    // Summary.
    out.push_str("\n## Summary\n");
    if let Some(i) = p.incident {
        let opened = read(i.created_at.as_deref());
        let resolved = read(i.resolved_on.as_deref());
        out.push_str(&format!(
            "- Incident {}: status {}, opened {}, {}.\n",
            i.id,
            i.status.as_deref().unwrap_or("?"),
            t(i.created_at.as_deref()),
            match (opened, resolved) {
                (Some(o), Some(r)) => format!(
                    "resolved {} (time to resolve {})",
                    show(r, tz),
                    minutes(r - o)
                ),
                (Some(o), None) => format!("not resolved (open {} so far)", minutes(p.now - o)),
                _ => "not resolved".into(),
            }
        ));
        let services: Vec<String> = i
            .affected_services
            .iter()
            .map(|s| {
                format!(
                    "{} {} ({})",
                    s.service.id,
                    named(s.service.name.as_deref(), s.service.id, "service"),
                    s.impact.as_deref().unwrap_or("?")
                )
            })
            .collect();
        out.push_str(&format!(
            "- Services affected: {}.\n",
            if services.is_empty() {
                "none named".into()
            } else {
                services.join(", ")
            }
        ));
        let sent = i
            .history
            .iter()
            .filter(|u| u.send_notification == Some(true))
            .count();
        out.push_str(&format!(
            "- Updates sent to subscribers: {sent} of {} status update(s).\n",
            i.history.len()
        ));
    }
    let ids: Vec<i64> = p.alerts.iter().map(|r| r.alert.id).collect();
    out.push_str(&format!(
        "- Alerts: {} ({}).\n",
        ids_text(&ids),
        p.alerts_basis
    ));
    for r in &p.alerts {
        let a = r.alert;
        let reported = read(a.report_time.as_deref());
        let tta = match (reported, first_accept(a)) {
            (Some(rep), Some((acc, who))) => format!(
                "acknowledged after {} by {}",
                minutes(acc - rep),
                person(who)
            ),
            _ => "never acknowledged".into(),
        };
        let ttr = match (reported, read(a.resolved_on.as_deref())) {
            (Some(rep), Some(res)) => format!("resolved after {}", minutes(res - rep)),
            (Some(rep), None) => format!("not resolved (open {} so far)", minutes(p.now - rep)),
            _ => "not resolved".into(),
        };
        out.push_str(&format!(
            "- Alert {} ({}), reported {}: {tta}; {ttr}.\n",
            a.id,
            state(a),
            t(a.report_time.as_deref())
        ));
    }
    // People.
    out.push_str("\n## People\n");
    let mut paged: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &p.alerts {
        for n in r.notifications.unwrap_or(&[]) {
            let who = n
                .user
                .as_ref()
                .map(|u| u.display_name())
                .unwrap_or_else(|| "someone".into());
            paged.entry(who).or_default().push(format!(
                "{} {} on alert {}",
                n.method.as_deref().unwrap_or("?"),
                match n.status.as_deref() {
                    Some("SUCCESS") => "delivered",
                    Some("ERROR") => "failed",
                    Some(other) => other,
                    None => "?",
                },
                r.alert.id
            ));
        }
    }
    if paged.is_empty() {
        out.push_str("- Paged: no notification records read.\n");
    } else {
        let list: Vec<String> = paged
            .iter()
            .map(|(who, how)| format!("{} ({})", person(who.clone()), how.join(", ")))
            .collect();
        out.push_str(&format!("- Paged: {}.\n", list.join("; ")));
    }
    let mut responded: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &p.alerts {
        for x in &r.alert.responders {
            if x.status.as_deref() == Some("ACCEPTED") {
                responded
                    .entry(x.user.display_name())
                    .or_default()
                    .push(format!("accepted alert {}", r.alert.id));
            }
        }
    }
    if let Some(i) = p.incident {
        let mut posted: BTreeMap<String, usize> = BTreeMap::new();
        for c in i.history.iter().filter_map(|u| u.creator.as_ref()) {
            *posted.entry(c.display_name()).or_default() += 1;
        }
        for (who, n) in posted {
            responded
                .entry(who)
                .or_default()
                .push(format!("posted {n} status update(s)"));
        }
    }
    if responded.is_empty() {
        out.push_str("- Responded: nobody accepted an alert or posted an update.\n");
    } else {
        let list: Vec<String> = responded
            .iter()
            .map(|(who, what)| format!("{} ({})", person(who.clone()), what.join(", ")))
            .collect();
        out.push_str(&format!("- Responded: {}.\n", list.join("; ")));
    }
    // Gaps.
    out.push_str("\n## Gaps\n");
    let mut gaps = Vec::new();
    for r in &p.alerts {
        let a = r.alert;
        let Some(rep) = read(a.report_time.as_deref()) else {
            continue;
        };
        let until = first_accept(a)
            .map(|(acc, _)| acc)
            .or_else(|| read(a.resolved_on.as_deref()))
            .unwrap_or(p.now);
        if until - rep >= Duration::minutes(GAP_MINUTES) {
            gaps.push(format!(
                "- Alert {}: {} with nobody accepted ({} to {}{}).",
                a.id,
                minutes(until - rep),
                show(rep, tz),
                show(until, tz),
                if first_accept(a).is_none() && a.resolved_on.is_none() {
                    ", now"
                } else {
                    ""
                }
            ));
        }
        for e in r.log.unwrap_or(&[]) {
            let text = e.text.as_deref().unwrap_or("");
            match e.log_entry_type.as_deref() {
                Some("AlertEscalatedToLevelLogEntry") if level_of(text).is_some_and(|l| l >= 2) => {
                    // ilert logs the escalation even when the level's people were paged already
                    // and nothing new is sent: only a notification at or after it is a page.
                    let at = read(e.timestamp.as_deref());
                    let sent = match (r.notifications, at) {
                        (Some(ns), Some(at)) => ns
                            .iter()
                            .any(|n| read(n.notification_time.as_deref()).is_some_and(|t| t >= at)),
                        _ => true,
                    };
                    gaps.push(format!(
                        "- Alert {}: level {} {} at {}{}.",
                        a.id,
                        level_of(text).unwrap_or(0),
                        if sent { "paged" } else { "escalated to" },
                        t(e.timestamp.as_deref()),
                        if sent {
                            ""
                        } else {
                            ", but ilert lists no notification sent at or after it (its people had \
                             been paged already)"
                        }
                    ))
                }
                Some("NobodyOnCallLogEntry") => gaps.push(format!(
                    "- Alert {}: nobody on call at {}: ilert: {}.",
                    a.id,
                    t(e.timestamp.as_deref()),
                    quoted(text)
                )),
                _ => {}
            }
        }
        if let Some(ns) = r.notifications {
            let failed = ns
                .iter()
                .filter(|n| n.status.as_deref() == Some("ERROR"))
                .count();
            if failed > 0 {
                gaps.push(format!(
                    "- Alert {}: {failed} of {} notification(s) failed{}.",
                    a.id,
                    ns.len(),
                    if failed == ns.len() {
                        " (nobody was reached)"
                    } else {
                        ""
                    }
                ));
            }
        }
    }
    if let Some(i) = p.incident {
        let mut stamps: Vec<DateTime<Utc>> = i
            .history
            .iter()
            .filter_map(|u| read(u.created_at.as_deref()))
            .collect();
        stamps.sort();
        let end = read(i.resolved_on.as_deref()).unwrap_or(p.now);
        if let Some(last) = stamps.last() {
            stamps.push(end.max(*last));
        }
        for pair in stamps.windows(2) {
            let [from, to] = pair else { continue };
            if *to - *from >= Duration::minutes(30) {
                gaps.push(format!(
                    "- Incident {}: {} without a status update ({} to {}).",
                    i.id,
                    minutes(*to - *from),
                    show(*from, tz),
                    show(*to, tz)
                ));
            }
        }
    }
    if gaps.is_empty() {
        out.push_str("- None found in what was read.\n");
    }
    for g in gaps {
        out.push_str(&g);
        out.push('\n');
    }
    // Timeline.
    out.push_str("\n## Timeline\n");
    let mut rows: Vec<(Option<DateTime<Utc>>, String)> = Vec::new();
    if let Some(i) = p.incident {
        rows.push((
            read(i.created_at.as_deref()),
            format!("Incident {} opened.", i.id),
        ));
        for u in &i.history {
            rows.push((
                read(u.created_at.as_deref()),
                format!(
                    "Status update {}",
                    update_text(u, ", not sent to subscribers")
                ),
            ));
        }
        if i.resolved_on.is_some() {
            rows.push((
                read(i.resolved_on.as_deref()),
                format!("Incident {} resolved.", i.id),
            ));
        }
    }
    for r in &p.alerts {
        let a = r.alert;
        let with_notifications = r.notifications.is_some();
        match r.log {
            Some(entries) => {
                let mut entries: Vec<&LogEntry> = entries.iter().collect();
                entries.sort_by_key(|e| (read(e.timestamp.as_deref()), e.id));
                for e in entries {
                    // Notifications are listed from their own records, with their outcome.
                    if with_notifications
                        && e.log_entry_type.as_deref() == Some("NotificationLogEntry")
                    {
                        continue;
                    }
                    rows.push((
                        read(e.timestamp.as_deref()),
                        format!(
                            "Alert {}: ilert: {}",
                            a.id,
                            quoted(e.text.as_deref().unwrap_or(""))
                        ),
                    ));
                }
            }
            None => {
                rows.push((
                    read(a.report_time.as_deref()),
                    format!("Alert {} reported: {}", a.id, summary(a)),
                ));
                for x in &a.responders {
                    if x.accepted_at.is_some() {
                        rows.push((
                            read(x.accepted_at.as_deref()),
                            format!(
                                "Alert {} accepted by {}.",
                                a.id,
                                person(x.user.display_name())
                            ),
                        ));
                    }
                }
                if a.resolved_on.is_some() {
                    rows.push((
                        read(a.resolved_on.as_deref()),
                        format!("Alert {} resolved.", a.id),
                    ));
                }
            }
        }
        for n in r.notifications.unwrap_or(&[]) {
            let mut line = format!(
                "Alert {}: {} to {} {}",
                a.id,
                n.method.as_deref().unwrap_or("?"),
                n.user
                    .as_ref()
                    .map(|u| person(u.display_name()))
                    .unwrap_or_else(|| "?".into()),
                match n.status.as_deref() {
                    Some("SUCCESS") => "delivered",
                    Some("ERROR") => "failed",
                    Some(other) => other,
                    None => "?",
                }
            );
            if let Some(why) = n.error_message.as_deref().filter(|s| !s.is_empty()) {
                line.push_str(&format!(": {}", quoted(why)));
            }
            line.push('.');
            rows.push((read(n.notification_time.as_deref()), line));
        }
    }
    rows.sort_by_key(|r| r.0);
    for (at, what) in rows {
        out.push_str(&format!(
            "- {} {}\n",
            at.map(|t| show(t, tz)).unwrap_or_else(|| "?".into()),
            untrusted::inline(&what)
        ));
    }
    for n in &p.notes {
        out.push_str(&format!("\n{n}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on_call(start: &str, end: &str, level: f64) -> OnCall {
        OnCall {
            start: Some(start.into()),
            end: Some(end.into()),
            escalation_level: Some(level),
            ..Default::default()
        }
    }

    #[test]
    fn the_shift_under_way_that_started_last_wins() {
        let now = read(Some("2026-12-07T13:00:00Z")).unwrap();
        let shifts = [
            on_call("2026-12-07T07:00:00Z", "2026-12-14T07:00:00Z", 2.0),
            on_call("2026-12-07T07:00:00Z", "2026-12-07T15:00:00Z", 1.0),
            on_call("2026-12-06T07:00:00Z", "2026-12-06T15:00:00Z", 1.0),
        ];
        assert_eq!(pick_shift(&shifts, now), Some(1));
        let later = read(Some("2026-12-20T13:00:00Z")).unwrap();
        assert_eq!(pick_shift(&shifts, later), Some(0));
        assert_eq!(pick_shift(&[], now), None);
    }

    #[test]
    fn levels_are_read_from_escalation_entries() {
        assert_eq!(
            level_of("Alert escalated to level 2 of Checkout on-call: X notified."),
            Some(2)
        );
        assert_eq!(level_of("New alert received."), None);
    }

    #[test]
    fn changes_count_by_when_they_happened() {
        let w = Window {
            from: read(Some("2026-12-07T07:00:00Z")).unwrap(),
            until: read(Some("2026-12-07T13:00:00Z")).unwrap(),
        };
        let old_resolved_now: Alert = serde_json::from_value(serde_json::json!({
            "id": 1, "reportTime": "2026-12-01T00:00:00Z", "resolvedOn": "2026-12-07T08:00:00Z",
            "status": "RESOLVED"
        }))
        .unwrap();
        let new_untouched: Alert = serde_json::from_value(serde_json::json!({
            "id": 2, "reportTime": "2026-12-07T09:00:00Z", "status": "PENDING"
        }))
        .unwrap();
        let ids: Vec<i64> = changed_in([&old_resolved_now, &new_untouched], &w)
            .iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(ids, vec![1]);
    }
}
