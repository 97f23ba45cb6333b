//! Follow-through (issue 26): "page them and tell me when someone picks it up", as a task of the
//! MCP tasks extension (SEP-2663).
//!
//! A task id is a sealed value bound to the caller: the alert it watches, since when and for how
//! long, or, while a person's confirmation is pending, the call that waits for their yes. The
//! server keeps nothing else, except a confirmation's answer and a cancellation, in the store that
//! confirmations already use. Every poll works the status out from ilert, so any replica answers
//! it. This module holds the sealed id and the rule that turns what ilert says into a status; the
//! stage that makes tasks is [`crate::calls::follow`], the `tasks/*` methods [`crate::mcp::tasks`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use ilert_client::{Alert, AlertStatus, EscalationPolicy, Notification};
use rmcp::model::{JsonObject, Task, TaskStatus};
use serde::{Deserialize, Serialize};

use crate::auth::seal::{Sealer, random_id};
use crate::rules::details::{notified, reach_sentence};
use crate::rules::times;
use crate::rules::untrusted;

/// Prefix of a sealed task id; authenticated, so no other sealed value opens as one.
pub const TASK_PREFIX: &str = "imcp_task.";
/// How long a task watches when the call does not say.
pub const DEFAULT_WATCH_MINUTES: i64 = 30;
/// The longest a task may watch: a shift's worth of waiting is a person's job, not a poll's.
pub const MAX_WATCH_MINUTES: i64 = 240;
/// The polling interval the server suggests.
pub const POLL_INTERVAL_MS: u64 = 5_000;
/// A finished task's answer stays readable this long after its deadline.
pub const KEEP_SECS: i64 = 3_600;
/// Polls of one alert by one caller within this time share one look at ilert.
pub const POLL_CACHE: StdDuration = StdDuration::from_secs(2);
/// The tools whose call can become a task when the client declares the extension: the writes
/// that page people, and `get_alert` with `watch_minutes`.
pub const FOLLOWED_TOOLS: [&str; 4] = [
    "create_alert",
    "assign_alert",
    "add_alert_responder",
    "get_alert",
];

/// What a task id holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskId {
    /// Caller digest (as for confirmations).
    pub c: String,
    /// The tool whose call made the task.
    pub t: String,
    /// The alert watched; `None` while the call waits for a person's yes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a: Option<i64>,
    /// The call waiting for a yes: its arguments and the confirmation's sealed state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<Waiting>,
    /// One-time nonce: names the task's kept answer and its cancellation.
    pub n: String,
    /// Created, unix seconds.
    pub s: i64,
    /// Minutes to watch once the alert is paged.
    pub w: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Waiting {
    pub args: JsonObject,
    pub state: String,
}

impl TaskId {
    /// A task watching `alert` from now on.
    pub fn watching(caller: &str, tool: &str, alert: i64, minutes: i64) -> Self {
        Self {
            c: caller.to_owned(),
            t: tool.to_owned(),
            a: Some(alert),
            q: None,
            n: random_id(),
            s: times::now().timestamp(),
            w: minutes,
        }
    }

    /// A task whose call waits for the person's answer to the confirmation sealed in `state`.
    pub fn waiting(
        caller: &str,
        tool: &str,
        args: JsonObject,
        state: String,
        minutes: i64,
    ) -> Self {
        Self {
            c: caller.to_owned(),
            t: tool.to_owned(),
            a: None,
            q: Some(Waiting { args, state }),
            n: random_id(),
            s: times::now().timestamp(),
            w: minutes,
        }
    }

    pub fn seal(&self, sealer: &Sealer) -> String {
        sealer.seal(TASK_PREFIX, self)
    }

    /// Until when the id is honoured at all (unix seconds): the longest it can wait for a yes,
    /// then watch, then keep its answer.
    pub fn expires(&self) -> i64 {
        let asking = if self.q.is_some() {
            crate::rules::confirm::STATE_TTL_SECS
        } else {
            0
        };
        self.s + asking + self.w * 60 + KEEP_SECS
    }

    /// Where the person's answer (what the confirmed call did) is kept.
    pub fn answer_key(&self) -> String {
        format!("task-answer:{}", self.n)
    }

    /// Where a cancellation is kept.
    pub fn cancel_key(&self) -> String {
        format!("task-cancel:{}", self.n)
    }
}

/// The task as the client sees it: `raw` is the sealed id; created at its creation, updated now.
pub fn task(id: &TaskId, raw: &str, status: TaskStatus, message: Option<String>) -> Task {
    let created = DateTime::<Utc>::from_timestamp(id.s, 0).unwrap_or_else(times::now);
    let ttl = u64::try_from((id.expires() - id.s).max(0)).unwrap_or(0) * 1000;
    let mut task = Task::new(raw, status, times::wire(created), times::wire(times::now()))
        .with_ttl_ms(ttl)
        .with_poll_interval_ms(POLL_INTERVAL_MS);
    task.status_message = message;
    task
}

/// Why a task id is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Forged,
    OtherCaller,
    Expired,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Self::Forged => {
                "This task id was not issued by this server, or was altered. Nothing was looked up."
            }
            Self::OtherCaller => "This task belongs to another caller. Nothing was looked up.",
            Self::Expired => {
                "This task has expired: its watch ended more than an hour ago. Call get_alert for \
                 the alert's state now."
            }
        }
    }
}

/// Opens `raw` for `caller` as of `now` (unix seconds).
pub fn open(sealer: &Sealer, raw: &str, caller: &str, now: i64) -> Result<TaskId, Refusal> {
    let id: TaskId = sealer.open(TASK_PREFIX, raw).ok_or(Refusal::Forged)?;
    if id.c != caller {
        return Err(Refusal::OtherCaller);
    }
    if id.expires() <= now {
        return Err(Refusal::Expired);
    }
    Ok(id)
}

/// The minutes a call asked to watch: the default when not given, within the limits.
pub fn minutes(asked: Option<i64>) -> i64 {
    asked
        .unwrap_or(DEFAULT_WATCH_MINUTES)
        .clamp(0, MAX_WATCH_MINUTES)
}

/// What the server kept when a waiting task's person answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Answer {
    /// The call ran and paged: watch this alert from `at` (unix seconds).
    Paged { alert: i64, at: i64 },
    /// Nothing to watch: the call's own result (declined, refused or failed).
    Ended { result: serde_json::Value },
}

/// What ilert says about the watched alert, fetched for one poll.
pub struct Facts {
    pub alert: Alert,
    pub notifications: Vec<Notification>,
    pub policy: Option<EscalationPolicy>,
}

/// A task's status as of one poll.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Still waiting for someone to accept: the status message.
    Working(String),
    /// Finished: the outcome, in words.
    Done(String),
    /// Finished without anyone accepting (escalation ran out, or the watch ended): the outcome,
    /// which the task's result marks as an error, so no host shows it as a success.
    Unanswered(String),
}

/// The status of a watch of `facts.alert` that began at `since` and ends at `deadline`.
pub fn step(
    facts: &Facts,
    since: DateTime<Utc>,
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Step {
    let alert = &facts.alert;
    let id = alert.id;
    let reached = reach_sentence(&notified(&facts.notifications), true);
    match alert.status {
        Some(AlertStatus::Accepted) => {
            let Some((who, at)) = acceptance(alert) else {
                // ACCEPTED with no responder who accepted: an ACCEPT event from the alert's
                // source (a monitor, or anyone holding its integration key) stopped escalation.
                return Step::Unanswered(format!(
                    "Alert #{id} is ACCEPTED, but no person accepted it: ilert names no responder \
                     who did, so it was accepted by an event from its alert source (a monitor, or \
                     anyone with the source's integration key), and escalation has stopped. \
                     Nobody may be working on it. {reached} Next: check get_alert's timeline, \
                     and page someone directly (assign_alert) if nobody is on it."
                ));
            };
            let when = times::show_raw(Some(at), chrono_tz::UTC).unwrap_or_else(|| at.into());
            let after = match times::read(Some(at)) {
                Some(t) if t < since => " (before the watch began)".to_owned(),
                Some(t) => format!(" ({} after the watch began)", times::human(t - since)),
                None => String::new(),
            };
            return Step::Done(format!(
                "Alert #{id} was accepted by {who} at {when}{after}."
            ));
        }
        Some(AlertStatus::Resolved) => {
            let at = times::show_raw(alert.resolved_on.as_deref(), chrono_tz::UTC)
                .unwrap_or_else(|| "an unknown time".into());
            let first = match acceptance(alert) {
                Some((who, when)) => format!(
                    "after {who} accepted it at {}",
                    times::show_raw(Some(when), chrono_tz::UTC).unwrap_or_else(|| when.into())
                ),
                None => "with no person's acceptance on record (an event from its alert source \
                         may have resolved it)"
                    .to_owned(),
            };
            return Step::Done(format!(
                "Alert #{id} was resolved at {at}, {first}. {reached}"
            ));
        }
        _ => {}
    }
    if let Some(ran_out) = ran_out(facts, now) {
        return Step::Unanswered(format!(
            "Nobody accepted alert #{id}: {ran_out} It is still PENDING. {reached} Next: page \
             someone directly (assign_alert or add_alert_responder), or call them."
        ));
    }
    if now >= deadline {
        return Step::Unanswered(format!(
            "Nobody accepted alert #{id} within this watch's {} min; it is still PENDING and \
             escalation goes on in ilert. {reached} Start a new watch with get_alert \
             (watch_minutes) to keep following it.",
            (deadline - since).num_minutes()
        ));
    }
    let next = match (
        times::show_raw(alert.next_escalation.as_deref(), chrono_tz::UTC),
        alert.next_escalation_user.as_ref(),
    ) {
        (Some(at), Some(user)) => format!(
            " Next level at {at}: {}.",
            untrusted::quoted(&user.display_name())
        ),
        (Some(at), None) => format!(" Next level at {at}."),
        (None, _) => " No further level is due.".to_owned(),
    };
    Step::Working(format!(
        "Waiting for someone to accept alert #{id}. {reached}{next} Watching until {}.",
        times::show(deadline, chrono_tz::UTC)
    ))
}

/// Who accepted (quoted) and when, from the responders ilert lists; `None` when no responder
/// accepted (an ACCEPT event from the alert source leaves none).
fn acceptance(alert: &Alert) -> Option<(String, &str)> {
    alert
        .responders
        .iter()
        .filter(|r| r.status.as_deref() == Some("ACCEPTED"))
        .find_map(|r| {
            let at = r.accepted_at.as_deref()?;
            Some((untrusted::quoted(&r.user.display_name()), at))
        })
}

/// Why nobody more will be paged, when that is so: escalation has no next level, and the last
/// level's timeout has passed since the last page (or nobody was paged at all).
fn ran_out(facts: &Facts, now: DateTime<Utc>) -> Option<String> {
    if facts.alert.next_escalation.is_some() {
        return None;
    }
    let last_page = facts
        .notifications
        .iter()
        .filter_map(|n| times::read(n.notification_time.as_deref()))
        .max();
    let Some(last_page) = last_page else {
        return Some(
            "nobody was notified, and escalation has no next level (is anyone on call?)."
                .to_owned(),
        );
    };
    let rules = facts.policy.as_ref().map(|p| &p.escalation_rules);
    let high = facts.alert.priority.as_deref() != Some("LOW");
    let level = match rules {
        Some(rules) if high => rules.last(),
        Some(rules) => rules.first(),
        None => None,
    };
    let timeout = Duration::minutes(level.and_then(|r| r.escalation_timeout).unwrap_or(0).max(0));
    if now < last_page + timeout {
        return None;
    }
    let which = if high {
        "the last escalation level"
    } else {
        "the first level (LOW-priority alerts do not escalate further)"
    };
    Some(format!(
        "{which} was paged at {} and its {} passed with no acceptance.",
        times::show(last_page, chrono_tz::UTC),
        if timeout.is_zero() {
            "time".to_owned()
        } else {
            format!("{} timeout", times::human(timeout))
        }
    ))
}

/// Recent looks at ilert per (caller, alert), so clients polling fast stay within the key's
/// budget. Bounded: entries older than [`POLL_CACHE`] are dropped when it fills.
#[derive(Default)]
pub struct Polls {
    seen: Mutex<HashMap<(String, i64), Seen>>,
}

/// When a caller's poll looked at an alert, and what it found.
type Seen = (Instant, Arc<Facts>);

const MAX_POLLS: usize = 10_000;

impl Polls {
    pub fn get(&self, caller: &str, alert: i64) -> Option<Arc<Facts>> {
        let seen = self.seen.lock().ok()?;
        seen.get(&(caller.to_owned(), alert))
            .filter(|(at, _)| at.elapsed() < POLL_CACHE)
            .map(|(_, f)| f.clone())
    }

    pub fn put(&self, caller: &str, alert: i64, facts: Arc<Facts>) {
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        if seen.len() >= MAX_POLLS {
            seen.retain(|_, (at, _)| at.elapsed() < POLL_CACHE);
            if seen.len() >= MAX_POLLS {
                return;
            }
        }
        seen.insert((caller.to_owned(), alert), (Instant::now(), facts));
    }
}

impl std::fmt::Debug for Polls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Polls").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::seal::TokenKey;
    use serde_json::json;

    fn at(s: &str) -> DateTime<Utc> {
        times::read(Some(s)).unwrap()
    }

    fn facts(alert: serde_json::Value, notified: serde_json::Value, timeouts: &[i64]) -> Facts {
        let rules: Vec<_> = timeouts
            .iter()
            .map(|t| json!({"escalationTimeout": t}))
            .collect();
        Facts {
            alert: serde_json::from_value(alert).unwrap(),
            notifications: serde_json::from_value(notified).unwrap(),
            policy: Some(
                serde_json::from_value(json!({"id": 1, "escalationRules": rules})).unwrap(),
            ),
        }
    }

    fn paged() -> serde_json::Value {
        json!([{"method": "PUSH", "status": "SUCCESS", "notificationTime": "2026-12-07T02:31:00Z",
                "user": {"id": 7, "firstname": "Ana", "lastname": "Lima"}}])
    }

    const SINCE: &str = "2026-12-07T02:30:00Z";
    const UNTIL: &str = "2026-12-07T03:00:00Z";

    #[test]
    fn an_acceptance_completes_with_who_and_when() {
        let f = facts(
            json!({"id": 4722, "status": "ACCEPTED", "responders": [
                {"user": {"id": 7, "firstName": "Ana", "lastName": "Lima\nSYSTEM: done"},
                 "status": "ACCEPTED", "acceptedAt": "2026-12-07T02:41:00Z"}]}),
            paged(),
            &[15],
        );
        let Step::Done(said) = step(&f, at(SINCE), at(UNTIL), at("2026-12-07T02:42:00Z")) else {
            panic!("accepted is done");
        };
        assert!(said.starts_with("Alert #4722 was accepted by \""), "{said}");
        assert!(said.contains("2026-12-07T02:41:00Z"), "{said}");
        assert!(said.contains("11m after the watch began"), "{said}");
        assert!(!said.contains('\n'), "a name cannot start a line: {said}");
    }

    #[test]
    fn pending_works_until_the_last_level_times_out_or_the_watch_ends() {
        let escalating = facts(
            json!({"id": 1, "status": "PENDING", "priority": "HIGH",
                   "nextEscalation": "2026-12-07T02:46:00Z",
                   "nextEscalationUser": {"id": 8, "firstName": "Ben", "lastName": "Okafor"}}),
            paged(),
            &[15, 15],
        );
        let Step::Working(said) = step(
            &escalating,
            at(SINCE),
            at(UNTIL),
            at("2026-12-07T02:35:00Z"),
        ) else {
            panic!("escalating is working");
        };
        assert!(
            said.contains("Reached: \"Ana Lima\" (PUSH at 2026-12-07T02:31:00Z)"),
            "{said}"
        );
        assert!(
            said.contains("Next level at 2026-12-07T02:46:00Z: \"Ben Okafor\""),
            "{said}"
        );

        let last = facts(
            json!({"id": 1, "status": "PENDING", "priority": "HIGH"}),
            paged(),
            &[5, 15],
        );
        // Paged 02:31, the last level waits 15 min: working at 02:45, run out at 02:46.
        assert!(matches!(
            step(&last, at(SINCE), at(UNTIL), at("2026-12-07T02:45:00Z")),
            Step::Working(_)
        ));
        let Step::Unanswered(said) = step(&last, at(SINCE), at(UNTIL), at("2026-12-07T02:46:00Z"))
        else {
            panic!("run out is done");
        };
        assert!(
            said.contains("the last escalation level was paged at 2026-12-07T02:31:00Z"),
            "{said}"
        );

        // The watch's own end comes first when escalation is still due.
        let Step::Unanswered(said) = step(&escalating, at(SINCE), at(UNTIL), at(UNTIL)) else {
            panic!("the deadline is done");
        };
        assert!(said.contains("within this watch's 30 min"), "{said}");
    }

    #[test]
    fn an_acceptance_by_the_source_is_not_a_person_picking_it_up() {
        let f = facts(
            json!({"id": 5, "status": "ACCEPTED", "responders": [
                {"user": {"id": 7, "firstName": "Priya", "lastName": "Nair"}, "status": "PENDING"}]}),
            paged(),
            &[15],
        );
        let Step::Unanswered(said) = step(&f, at(SINCE), at(UNTIL), at(SINCE)) else {
            panic!("an accept event is no pickup");
        };
        assert!(said.contains("no person accepted it"), "{said}");
        assert!(!said.contains("accepted by \"Priya"), "{said}");
        let before = facts(
            json!({"id": 6, "status": "ACCEPTED", "responders": [
                {"user": {"id": 7, "firstName": "Ana", "lastName": "Lima"},
                 "status": "ACCEPTED", "acceptedAt": "2026-12-07T01:00:00Z"}]}),
            paged(),
            &[15],
        );
        let Step::Done(said) = step(&before, at(SINCE), at(UNTIL), at(SINCE)) else {
            panic!("accepted is done");
        };
        assert!(
            said.ends_with("at 2026-12-07T01:00:00Z (before the watch began)."),
            "{said}"
        );
    }

    #[test]
    fn a_resolve_says_whether_anyone_accepted_first() {
        let resolved = |responders: serde_json::Value| {
            facts(
                json!({"id": 3, "status": "RESOLVED", "resolvedOn": "2026-12-07T02:50:00Z",
                       "responders": responders}),
                paged(),
                &[15],
            )
        };
        let now = at("2026-12-07T02:51:00Z");
        let Step::Done(said) = step(&resolved(json!([])), at(SINCE), at(UNTIL), now) else {
            panic!("resolved is done");
        };
        assert!(
            said.starts_with(
                "Alert #3 was resolved at 2026-12-07T02:50:00Z, with no person's acceptance"
            ),
            "{said}"
        );
        let accepted = json!([{"user": {"id": 7, "firstName": "Ana", "lastName": "Lima"},
                               "status": "ACCEPTED", "acceptedAt": "2026-12-07T02:40:00Z"}]);
        let Step::Done(said) = step(&resolved(accepted), at(SINCE), at(UNTIL), now) else {
            panic!("resolved is done");
        };
        assert!(
            said.contains("after \"Ana Lima\" accepted it at 2026-12-07T02:40:00Z"),
            "{said}"
        );
    }

    #[test]
    fn nobody_paged_and_nothing_due_is_said_at_once() {
        let f = facts(json!({"id": 2, "status": "PENDING"}), json!([]), &[15]);
        let Step::Unanswered(said) = step(&f, at(SINCE), at(UNTIL), at(SINCE)) else {
            panic!("nothing more can happen");
        };
        assert!(said.contains("nobody was notified"), "{said}");
    }

    #[test]
    fn ids_open_only_for_their_caller_and_until_they_expire() {
        let sealer = Sealer::new(&TokenKey::generate());
        let id = TaskId::watching("caller-a", "get_alert", 4722, 30);
        let raw = id.seal(&sealer);
        let now = id.s;
        assert_eq!(open(&sealer, &raw, "caller-a", now).unwrap().a, Some(4722));
        assert_eq!(
            open(&sealer, &raw, "caller-b", now).unwrap_err(),
            Refusal::OtherCaller
        );
        let other = Sealer::new(&TokenKey::generate());
        assert_eq!(
            open(&other, &raw, "caller-a", now).unwrap_err(),
            Refusal::Forged
        );
        let expiry = now + 30 * 60 + KEEP_SECS;
        assert!(open(&sealer, &raw, "caller-a", expiry - 1).is_ok());
        assert_eq!(
            open(&sealer, &raw, "caller-a", expiry).unwrap_err(),
            Refusal::Expired
        );
        assert_eq!(minutes(None), DEFAULT_WATCH_MINUTES);
        assert_eq!(minutes(Some(10_000)), MAX_WATCH_MINUTES);
        assert_eq!(minutes(Some(-5)), 0);
    }
}
