//! "Have we seen this before?" (issue 24 §1): similar past alerts, grouped by why they are similar,
//! with how each group ended, its pattern, whether it looks like noise, and what people wrote and
//! ran. ilert has no search or similarity endpoint, so the answer is computed here from the
//! alert list and a few timelines, and every statement carries the ids it comes from. Anything
//! inferred (a pattern, noise) is labelled as such.
//!
//! Cost per call, at most [`MAX_REQUESTS`] ilert requests: the alert, up to [`MAX_PAGES`] pages of
//! its source's alerts in the window, and up to [`MAX_TIMELINES`] timelines. Timelines of
//! resolved alerts and the source's list are kept per caller for a while ([`Memory`]), so asking
//! again reads less.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, Timelike, Utc};
use ilert_client::{Alert, AlertStatus, LogEntry};
use schemars::JsonSchema;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::rules::{render, untrusted};

/// The window looked back over, in days.
pub const WINDOW_DAYS: i64 = 90;
/// Pages of 100 alerts of the source read at most.
pub const MAX_PAGES: u32 = 3;
pub const PAGE_SIZE: u32 = 100;
/// Timelines read at most, across all groups.
pub const MAX_TIMELINES: usize = 6;
/// The whole budget of one call.
pub const MAX_REQUESTS: usize = 1 + MAX_PAGES as usize + MAX_TIMELINES;
/// Ids listed per group (newest first); the counts cover all.
const IDS_SHOWN: usize = 12;
/// Notes (comments and action runs) quoted per group.
const NOTES_SHOWN: usize = 4;
/// "Quickly" resolved, for the noise guess.
const QUICK_MINUTES: i64 = 15;
/// Labels that say where, not what: sharing one of them makes nothing similar.
const GENERIC_LABELS: &[&str] = &[
    "env",
    "environment",
    "team",
    "severity",
    "priority",
    "region",
    "stage",
    "tier",
];

/// One group of similar alerts.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SimilarGroup {
    /// Why these are similar: same alert key, same source with a similar summary, or a shared label.
    pub why: String,
    pub count: usize,
    pub first_seen: String,
    pub last_seen: String,
    /// Newest first (up to 12 listed).
    pub ids: Vec<i64>,
    /// How they ended, counted from the list.
    pub ended: String,
    /// Who resolved them, from the timelines read (ids cited).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<String>,
    /// Where the alert asked about differs from these (still open long after they ended, or
    /// at another time of day): then it is not the usual case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub this_one: Option<String>,
    /// A pattern in the report times (inferred).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Set when the group looks like noise (a guess, with its reasons).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise: Option<String>,
    /// Comments and action runs people left, quoted (third-party text), with alert ids.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<PastNote>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PastNote {
    pub alert: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// ilert's timeline text, quoted.
    pub text: String,
}

/// Why a past alert is similar to the one asked about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Why {
    SameKey,
    SimilarSummary,
    SharedLabel(String, String),
    /// The weakest: most words of the masked summaries alike ([`close_summaries`]).
    CloseSummary,
}

impl Why {
    fn describe(&self) -> String {
        match self {
            Self::SameKey => "same alert key".to_owned(),
            Self::SimilarSummary => {
                "same source, same summary once numbers and ids are masked".to_owned()
            }
            Self::CloseSummary => {
                "same source, most words of the summary alike once numbers are masked (a weaker \
                 match)"
                    .to_owned()
            }
            Self::SharedLabel(k, v) => format!(
                "same source, shares the label {}={}",
                untrusted::inline(k),
                untrusted::inline(v)
            ),
        }
    }
}

/// The summary with digits, long hex ids and UUIDs masked, lowercased and trimmed, so that
/// "Disk usage above 82% on logs-01" and "Disk usage above 91% on logs-01" compare equal and
/// "… on logs-01" and "… on db-replica-2" do not.
pub fn mask(summary: &str) -> String {
    let mut out = String::with_capacity(summary.len());
    for word in summary.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        let hexish = word.len() >= 8
            && word.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
            && word.chars().any(|c| c.is_ascii_digit());
        if hexish {
            out.push('#');
            continue;
        }
        let mut in_digits = false;
        for c in word.chars() {
            if c.is_ascii_digit() {
                if !in_digits {
                    out.push('#');
                }
                in_digits = true;
            } else {
                in_digits = false;
                out.extend(c.to_lowercase());
            }
        }
    }
    out
}

fn distinguishing_labels(a: &Alert) -> Vec<(String, String)> {
    a.labels
        .iter()
        .flatten()
        .filter(|(k, v)| !v.is_empty() && !GENERIC_LABELS.contains(&k.to_lowercase().as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Why `other` is similar to `target`, if it is; the strongest reason wins.
pub fn why_similar(target: &Alert, other: &Alert) -> Option<Why> {
    if other.id == target.id {
        return None;
    }
    // Seen *before*: later alerts (anyone with the source's key can add some) are not history.
    if let (Some(t), Some(o)) = (reported(target), reported(other))
        && o >= t
    {
        return None;
    }
    if let (Some(k), Some(o)) = (&target.alert_key, &other.alert_key)
        && !k.is_empty()
        && k == o
    {
        return Some(Why::SameKey);
    }
    let same_source =
        matches!((&target.alert_source, &other.alert_source), (Some(a), Some(b)) if a.id == b.id);
    if !same_source {
        return None;
    }
    let masked = |a: &Alert| mask(a.summary.as_deref().unwrap_or(""));
    if !masked(target).is_empty() && masked(target) == masked(other) {
        return Some(Why::SimilarSummary);
    }
    let theirs = distinguishing_labels(other);
    if let Some((k, v)) = distinguishing_labels(target)
        .into_iter()
        .find(|l| theirs.contains(l))
    {
        return Some(Why::SharedLabel(k, v));
    }
    close_summaries(&masked(target), &masked(other)).then_some(Why::CloseSummary)
}

/// Whether two masked summaries share most of their words: at least three, and at least
/// [`CLOSE_SHARE`] of the words either has ("checkout api p# latency above #ms" and "checkout api
/// p# latency above #s" share 5 of 7). Catches the same problem told with another unit or
/// percentile, which exact masking misses.
pub fn close_summaries(a: &str, b: &str) -> bool {
    let words = |s: &str| -> BTreeSet<String> { s.split_whitespace().map(str::to_owned).collect() };
    let (a, b) = (words(a), words(b));
    let shared = a.intersection(&b).count();
    let all = a.union(&b).count();
    shared >= 3 && all > 0 && (shared as f64) >= CLOSE_SHARE * (all as f64)
}

/// The share of words two summaries must have in common for [`close_summaries`].
const CLOSE_SHARE: f64 = 0.6;

/// The candidates grouped by why they are similar, strongest reason first, each newest first.
pub fn group<'a>(target: &Alert, candidates: &'a [Alert]) -> Vec<(Why, Vec<&'a Alert>)> {
    let mut groups: BTreeMap<Why, Vec<&'a Alert>> = BTreeMap::new();
    for c in candidates {
        if let Some(why) = why_similar(target, c) {
            groups.entry(why).or_default().push(c);
        }
    }
    let mut out: Vec<(Why, Vec<&Alert>)> = groups.into_iter().collect();
    for (_, members) in &mut out {
        members.sort_by_key(|a| std::cmp::Reverse((reported(a), a.id)));
    }
    out
}

fn parse(raw: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw?.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn reported(a: &Alert) -> Option<DateTime<Utc>> {
    parse(a.report_time.as_deref())
}

fn accepted_by(a: &Alert) -> Option<String> {
    a.responders
        .iter()
        .find(|r| r.status.as_deref() == Some("ACCEPTED"))
        .map(|r| untrusted::inline_owned(r.user.display_name()))
}

/// How many timelines each of `groups` groups may read: an equal share of [`MAX_TIMELINES`], at
/// least two (the later groups may then get none).
pub fn timeline_share(groups: usize) -> usize {
    (MAX_TIMELINES / groups.max(1)).max(2)
}

/// Which members' timelines to read: those someone accepted (people acted there), newest first,
/// then the newest, up to `room`.
pub fn timelines_to_read(members: &[&Alert], room: usize) -> Vec<i64> {
    let take = room;
    let mut ids: Vec<i64> = members
        .iter()
        .filter(|a| accepted_by(a).is_some())
        .take(take.saturating_sub(1).max(1).min(take))
        .map(|a| a.id)
        .collect();
    for a in members {
        if ids.len() >= take {
            break;
        }
        if !ids.contains(&a.id) {
            ids.push(a.id);
        }
    }
    ids
}

fn ids_text(ids: &[i64]) -> String {
    let shown: Vec<String> = ids.iter().take(IDS_SHOWN).map(i64::to_string).collect();
    let more = ids.len().saturating_sub(IDS_SHOWN);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn minutes(d: chrono::Duration) -> i64 {
    d.num_minutes()
}

fn duration_text(mins: i64) -> String {
    match mins {
        m if m < 120 => format!("{m} min"),
        m if m < 48 * 60 => format!("{:.1} h", m as f64 / 60.0),
        m => format!("{:.1} days", m as f64 / 1440.0),
    }
}

/// The facts of one group; `timelines` holds what was read, by alert id.
pub fn describe(
    target: &Alert,
    why: &Why,
    members: &[&Alert],
    timelines: &HashMap<i64, Arc<Vec<LogEntry>>>,
) -> SimilarGroup {
    let ids: Vec<i64> = members.iter().map(|a| a.id).collect();
    let times: Vec<DateTime<Utc>> = members.iter().filter_map(|a| reported(a)).collect();
    let first = times.iter().min().map(|t| iso(*t));
    let last = times.iter().max().map(|t| iso(*t));
    let resolved: Vec<(&Alert, i64)> = members
        .iter()
        .filter(|a| a.status == Some(AlertStatus::Resolved))
        .filter_map(|a| {
            let took = parse(a.resolved_on.as_deref())? - reported(a)?;
            Some((*a, minutes(took)))
        })
        .collect();
    let open: Vec<i64> = members
        .iter()
        .filter(|a| a.status != Some(AlertStatus::Resolved))
        .map(|a| a.id)
        .collect();
    let accepted: Vec<(i64, String)> = members
        .iter()
        .filter_map(|a| accepted_by(a).map(|who| (a.id, who)))
        .collect();
    let mut took: Vec<i64> = resolved.iter().map(|(_, m)| *m).collect();
    took.sort_unstable();
    let median = took.get(took.len() / 2).copied();
    let mut ended = match (resolved.len(), median) {
        (0, _) | (_, None) => "None resolved".to_owned(),
        (n, Some(m)) if n == members.len() => format!(
            "All {n} resolved, a median {} after being reported",
            duration_text(m)
        ),
        (n, Some(m)) => format!(
            "{n} of {} resolved, a median {} after being reported",
            members.len(),
            duration_text(m)
        ),
    };
    if !open.is_empty() {
        ended.push_str(&format!("; still open: {}", ids_text(&open)));
    }
    if accepted.is_empty() {
        ended.push_str("; nobody accepted any.");
    } else {
        let mut by: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
        for (id, who) in &accepted {
            by.entry(who.as_str()).or_default().push(*id);
        }
        let who: Vec<String> = by
            .iter()
            .map(|(name, ids)| format!("{name} ({})", ids_text(ids)))
            .collect();
        ended.push_str(&format!(
            "; {} accepted, by {}.",
            accepted.len(),
            who.join(", ")
        ));
    }
    let quick = took.iter().filter(|m| **m < QUICK_MINUTES).count();
    let noise = (resolved.len() >= 3
        && quick * 5 >= members.len() * 4
        && accepted.len() * 10 <= members.len())
    .then(|| {
        format!(
            "Likely noise (a guess from the counts): {quick} of {} were resolved within {QUICK_MINUTES} minutes of being reported and {} accepted.",
            members.len(),
            match accepted.len() {
                0 => "nobody".to_owned(),
                n => format!("only {n} ({})", ids_text(&accepted.iter().map(|(id, _)| *id).collect::<Vec<_>>())),
            }
        )
    });
    let this_one = unlike(target, &times, median, resolved.len());
    let noise = match (noise, &this_one) {
        (Some(n), Some(_)) => Some(format!("For the past ones: {n}")),
        (n, _) => n,
    };
    let (resolved_by, notes) = from_timelines(members, timelines);
    SimilarGroup {
        why: why.describe(),
        count: members.len(),
        first_seen: first.unwrap_or_else(|| "?".into()),
        last_seen: last.unwrap_or_else(|| "?".into()),
        ids: ids.iter().take(IDS_SHOWN).copied().collect(),
        ended,
        resolved_by,
        this_one,
        pattern: pattern(&times),
        noise,
        notes,
    }
}

/// Who resolved (the last response in each timeline read) and the comments and action runs.
fn from_timelines(
    members: &[&Alert],
    timelines: &HashMap<i64, Arc<Vec<LogEntry>>>,
) -> (Option<String>, Vec<PastNote>) {
    let mut by_source: Vec<i64> = Vec::new();
    let mut by_person: Vec<(i64, String)> = Vec::new();
    let mut notes = Vec::new();
    let mut read = 0;
    for a in members {
        let Some(entries) = timelines.get(&a.id) else {
            continue;
        };
        read += 1;
        let mut sorted: Vec<&LogEntry> = entries.iter().collect();
        sorted.sort_by(|x, y| (x.timestamp.as_deref(), x.id).cmp(&(y.timestamp.as_deref(), y.id)));
        let kind = |e: &LogEntry| e.log_entry_type.clone().unwrap_or_default();
        if a.status == Some(AlertStatus::Resolved)
            && let Some(last) = sorted.iter().rev().find(|e| {
                matches!(
                    kind(e).as_str(),
                    "UserResponseLogEntry" | "AlertSourceResponseLogEntry"
                )
            })
        {
            if kind(last) == "AlertSourceResponseLogEntry" {
                by_source.push(a.id);
            } else {
                by_person.push((a.id, last.text.clone().unwrap_or_default()));
            }
        }
        for e in sorted {
            let k = kind(e);
            if k == "AlertCommentAddedLogEntry" || k.starts_with("AlertAction") {
                notes.push(PastNote {
                    alert: a.id,
                    at: render::time(e.timestamp.as_deref()),
                    text: untrusted::quoted(e.text.as_deref().unwrap_or("")),
                });
            }
        }
    }
    notes.truncate(NOTES_SHOWN);
    if read == 0 {
        return (None, notes);
    }
    let mut parts = Vec::new();
    if !by_source.is_empty() {
        parts.push(format!(
            "the source, in {} ({})",
            by_source.len(),
            ids_text(&by_source)
        ));
    }
    if !by_person.is_empty() {
        let said: Vec<String> = by_person
            .iter()
            .map(|(id, text)| format!("{id} {}", untrusted::quoted(text)))
            .collect();
        parts.push(format!(
            "people, in {} (ilert's timeline: {})",
            by_person.len(),
            said.join(", ")
        ));
    }
    let head = format!("From the {read} timelines read");
    let text = if parts.is_empty() {
        format!("{head}: none resolved yet.")
    } else {
        format!("{head}: resolved by {}.", parts.join("; "))
    };
    (Some(text), notes)
}

fn minute_of_day(t: &DateTime<Utc>) -> i64 {
    i64::from(t.hour() * 60 + t.minute())
}

/// Minutes between two times of day, either way round midnight.
fn minutes_apart(a: i64, b: i64) -> i64 {
    let d = (a - b).rem_euclid(1440);
    d.min(1440 - d)
}

/// The time of day (UTC minute) most of `times` share, with how many are within 30 minutes of it.
fn usual_time(times: &[DateTime<Utc>]) -> Option<(usize, i64)> {
    times
        .iter()
        .map(|t| {
            let m = minute_of_day(t);
            let count = times
                .iter()
                .filter(|u| minutes_apart(minute_of_day(u), m) <= 30)
                .count();
            (count, m)
        })
        .max_by_key(|(c, m)| (*c, -m))
}

/// Where the alert asked about differs from its group: still open long after the others ended,
/// or reported far from the time of day most of them share. `None` when it fits.
fn unlike(
    target: &Alert,
    times: &[DateTime<Utc>],
    median: Option<i64>,
    resolved: usize,
) -> Option<String> {
    let mut found = Vec::new();
    let n = times.len();
    if target.status != Some(AlertStatus::Resolved)
        && let (Some(at), Some(median)) = (reported(target), median)
        && resolved * 5 >= n * 4
    {
        let open = (crate::rules::times::now() - at).num_minutes();
        if open > (3 * median).max(QUICK_MINUTES) {
            found.push(format!(
                "it is still open after {}, while the past ones were resolved a median {} after being reported",
                duration_text(open),
                duration_text(median)
            ));
        }
    }
    if let (Some(at), Some((count, usual))) = (reported(target), usual_time(times))
        && n >= 3
        && count * 4 >= n * 3
        && minutes_apart(minute_of_day(&at), usual) > 45
    {
        found.push(format!(
            "it was reported at {:02}:{:02} UTC, not at the usual time (about {:02}:{:02} UTC)",
            at.hour(),
            at.minute(),
            usual / 60,
            usual % 60
        ));
    }
    (!found.is_empty()).then(|| {
        format!(
            "This one ({}) does not fit: {}. Look at it on its own.",
            target.id,
            found.join("; ")
        )
    })
}

/// A pattern in the report times, if one holds for most of them: daily or weekly at about the
/// same time of day (UTC), or bursts within an hour.
pub fn pattern(times: &[DateTime<Utc>]) -> Option<String> {
    let n = times.len();
    if n < 3 {
        return None;
    }
    let best = usual_time(times)?;
    let days: std::collections::BTreeSet<_> = times.iter().map(|t| t.date_naive()).collect();
    let (count, at) = best;
    let clock = format!("{:02}:{:02} UTC", at / 60, at % 60);
    if count * 4 >= n * 3 {
        let mut weekdays: BTreeMap<String, usize> = BTreeMap::new();
        for t in times {
            *weekdays.entry(format!("{:?}", t.weekday())).or_default() += 1;
        }
        let (weekday, on_day) = weekdays.into_iter().max_by_key(|(_, c)| *c)?;
        let span_days = (*times.iter().max()? - *times.iter().min()?).num_days();
        if on_day * 4 >= n * 3 && span_days >= 14 {
            return Some(format!(
                "Weekly (inferred): {on_day} of {n} on a {} at about {clock}.",
                long_weekday(&weekday)
            ));
        }
        if days.len() >= 4 {
            return Some(format!(
                "Daily (inferred): {count} of {n} at about {clock} (within 30 minutes), on {} different days.",
                days.len()
            ));
        }
    }
    // Bursts: four or more within an hour.
    let mut sorted = times.to_vec();
    sorted.sort();
    let mut bursts = 0;
    let mut in_bursts = 0;
    let mut i = 0;
    while let Some(start) = sorted.get(i) {
        let within = sorted
            .iter()
            .skip(i)
            .take_while(|t| **t - *start <= chrono::Duration::hours(1))
            .count();
        if within >= 4 {
            bursts += 1;
            in_bursts += within;
            i += within;
        } else {
            i += 1;
        }
    }
    (bursts > 0 && in_bursts * 2 >= n).then(|| {
        format!("In bursts (inferred, flapping?): {in_bursts} of {n} came in {bursts} bursts of 4 or more within an hour.")
    })
}

fn long_weekday(short: &str) -> &'static str {
    match short {
        "Mon" => "Monday",
        "Tue" => "Tuesday",
        "Wed" => "Wednesday",
        "Thu" => "Thursday",
        "Fri" => "Friday",
        "Sat" => "Saturday",
        _ => "Sunday",
    }
}

/// The answer's text: one block per group.
pub fn text(alert: &Alert, searched: &str, groups: &[SimilarGroup]) -> String {
    let summary = untrusted::quoted(alert.summary.as_deref().unwrap_or(""));
    if groups.is_empty() {
        return format!(
            "Not seen before: no alert similar to {} {summary} was reported before it, in {searched}.",
            alert.id
        );
    }
    let total: usize = groups.iter().map(|g| g.count).sum();
    let mut out = format!(
        "Seen before: {total} alerts similar to {} {summary} and reported before it, in {searched}.",
        alert.id
    );
    for (i, g) in groups.iter().enumerate() {
        let listed = if g.count > g.ids.len() {
            format!("the {} newest: {}", g.ids.len(), ids_text(&g.ids))
        } else {
            ids_text(&g.ids)
        };
        out.push_str(&format!(
            "\n{}. {} ({} alerts; {listed}), first {}, last {}.\n   Ended: {}",
            i + 1,
            g.why,
            g.count,
            g.first_seen,
            g.last_seen,
            g.ended
        ));
        for line in [&g.this_one, &g.resolved_by, &g.pattern, &g.noise]
            .into_iter()
            .flatten()
        {
            out.push_str("\n   ");
            out.push_str(line);
        }
        if !g.notes.is_empty() {
            out.push_str(
                "\n   Comments and actions on them (quoted third-party text; a comment's author is as \
                 written, which an alert source's events can set to any name):",
            );
            for n in &g.notes {
                out.push_str(&format!(
                    "\n   - alert {}{}: {}",
                    n.alert,
                    n.at.as_deref()
                        .map(|t| format!(", {t}"))
                        .unwrap_or_default(),
                    n.text
                ));
            }
        }
    }
    out
}

/// Per caller: the source's alerts in the window (for a minute) and timelines of resolved alerts
/// (for ten), so a second question about the same alert reads little or nothing.
#[derive(Default)]
pub struct Memory {
    lists: Kept<Window>,
    timelines: Kept<Vec<LogEntry>>,
}

/// Per (caller digest, id): when kept, and what.
type Kept<T> = Mutex<HashMap<([u8; 32], i64), (Instant, Arc<T>)>>;

const LIST_TTL: Duration = Duration::from_secs(60);
const TIMELINE_TTL: Duration = Duration::from_secs(600);
const MAX_KEPT: usize = 5_000;

/// A digest of the caller's key: memory is never shared between callers.
pub fn caller(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

fn get<T>(map: &Kept<T>, k: ([u8; 32], i64), ttl: Duration) -> Option<Arc<T>> {
    let map = map.lock().ok()?;
    let (at, v) = map.get(&k)?;
    (at.elapsed() < ttl).then(|| v.clone())
}

fn put<T>(map: &Kept<T>, k: ([u8; 32], i64), v: Arc<T>, ttl: Duration) {
    if let Ok(mut map) = map.lock() {
        if map.len() >= MAX_KEPT {
            map.retain(|_, (at, _)| at.elapsed() < ttl);
        }
        if map.len() < MAX_KEPT {
            map.insert(k, (Instant::now(), v));
        }
    }
}

/// A source's alerts reported since `since`, as read then.
pub struct Window {
    pub since: DateTime<Utc>,
    pub alerts: Vec<Alert>,
}

impl Memory {
    pub fn list(&self, who: [u8; 32], source: i64) -> Option<Arc<Window>> {
        get(&self.lists, (who, source), LIST_TTL)
    }
    pub fn keep_list(&self, who: [u8; 32], source: i64, list: Arc<Window>) {
        put(&self.lists, (who, source), list, LIST_TTL);
    }
    pub fn timeline(&self, who: [u8; 32], alert: i64) -> Option<Arc<Vec<LogEntry>>> {
        get(&self.timelines, (who, alert), TIMELINE_TTL)
    }
    pub fn keep_timeline(&self, who: [u8; 32], alert: i64, entries: Arc<Vec<LogEntry>>) {
        put(&self.timelines, (who, alert), entries, TIMELINE_TTL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn close_summaries_share_most_words() {
        let m = |s: &str| mask(s);
        assert!(close_summaries(
            &m("Checkout API p99 latency above 2s"),
            &m("Checkout API p95 latency above 800ms")
        ));
        assert!(!close_summaries(
            &m("Checkout API p99 latency above 2s"),
            &m("Payment provider returns 5xx for 4% of requests")
        ));
        // Three words in common is the least, however short the summaries.
        assert!(!close_summaries(&m("disk full"), &m("disk full again")));
    }

    #[test]
    fn masking_keeps_hosts_apart_and_numbers_together() {
        assert_eq!(
            mask("Disk usage above 82% on logs-01"),
            mask("Disk  usage above 91% on logs-01")
        );
        assert_ne!(
            mask("Disk usage above 82% on logs-01"),
            mask("Disk usage above 85% on db-replica-2")
        );
        assert_eq!(
            mask("Job 3fa85f64-5717 failed"),
            mask("Job 9ab85f64-1111 failed")
        );
    }

    #[test]
    fn nightly_weekly_and_bursts_are_told_apart() {
        let nightly: Vec<_> = (1..=10)
            .map(|d| at(&format!("2026-11-{d:02}T02:0{}:00Z", d % 9)))
            .collect();
        assert!(
            pattern(&nightly)
                .unwrap()
                .starts_with("Daily (inferred): 10 of 10 at about 02:0")
        );
        let sundays: Vec<_> = ["2026-11-01", "2026-11-08", "2026-11-15", "2026-11-22"]
            .iter()
            .map(|d| at(&format!("{d}T02:30:00Z")))
            .collect();
        assert_eq!(
            pattern(&sundays).unwrap(),
            "Weekly (inferred): 4 of 4 on a Sunday at about 02:30 UTC."
        );
        let burst: Vec<_> = (0..6)
            .map(|k| at(&format!("2026-11-03T14:{:02}:00Z", k * 9)))
            .chain((0..5).map(|k| at(&format!("2026-11-20T09:{:02}:00Z", k * 10))))
            .collect();
        assert!(
            pattern(&burst)
                .unwrap()
                .starts_with("In bursts (inferred, flapping?): 11 of 11 came in 2 bursts")
        );
        let scattered = vec![
            at("2026-11-01T05:00:00Z"),
            at("2026-11-09T11:40:00Z"),
            at("2026-11-20T19:10:00Z"),
        ];
        assert_eq!(pattern(&scattered), None);
    }
}
