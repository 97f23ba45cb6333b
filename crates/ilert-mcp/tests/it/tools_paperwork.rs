//! `get_handover` and `get_postmortem_draft` (issue 25 §1, §2). Every expected figure is computed
//! here from the sandbox's REST API and the stated window, never through the code under test; the
//! clock is real, so windows are checked with an inner and an outer bound (the moments before and
//! after the call).

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::common::*;
use crate::tools_support::*;

fn at(v: &Value) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v.as_str()?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn wire(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn show(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn name(user: &Value) -> String {
    format!(
        "{} {}",
        user["firstName"].as_str().unwrap_or(""),
        user["lastName"].as_str().unwrap_or("")
    )
}

/// Every page of `GET /alerts?{query}`.
async fn alerts(sandbox_url: &str, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for page in 0..20 {
        let rows = sandbox_get(
            sandbox_url,
            USER_KEY,
            &format!("alerts?{query}&max-results=100&start-index={}", page * 100),
        )
        .await;
        let rows = rows.as_array().unwrap().clone();
        let last = rows.len() < 100;
        out.extend(rows);
        if last {
            break;
        }
    }
    out
}

fn policies_query(policies: &BTreeSet<i64>) -> String {
    policies
        .iter()
        .map(|p| format!("policies={p}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The ids listed after `label` up to the next `)` or `.`: "Came in: 3 alert(s) ...: 1, 2, 3."
fn ids_after(text: &str, label: &str) -> BTreeSet<i64> {
    let rest = &text[text
        .find(label)
        .unwrap_or_else(|| panic!("{label} in {text}"))
        + label.len()..];
    let end = rest.find(['.', ')']).unwrap();
    rest[..end]
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn section<'a>(text: &'a str, from: &str, to: &str) -> &'a str {
    let start = text
        .find(from)
        .unwrap_or_else(|| panic!("{from} in {text}"));
    let end = text[start..]
        .find(to)
        .map(|e| start + e)
        .unwrap_or(text.len());
    &text[start..end]
}

fn changed_in(a: &Value, from: DateTime<Utc>, until: DateTime<Utc>) -> bool {
    let inside = |t: Option<DateTime<Utc>>| t.is_some_and(|t| from <= t && t <= until);
    inside(at(&a["resolvedOn"]))
        || a["responders"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| inside(at(&r["acceptedAt"])))
}

#[tokio::test]
async fn handover_of_the_last_hours_matches_the_sandbox() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let hours = 7;
    let before = Utc::now();
    let result = call(&client, "get_handover", json!({"hours": hours})).await;
    let after = Utc::now();
    assert!(!is_error(&result), "{}", text(&result));
    let answer = text(&result);
    // Inner window: surely inside whatever the tool used; outer: surely around it.
    let (inner_from, inner_until) = (after - Duration::hours(hours), before);
    let (outer_from, outer_until) = (before - Duration::hours(hours), after);
    // Scope: the policies the demo user (Jonas Weber, 10002) was on call for in the window.
    let mine = sandbox_get(
        &h.sandbox_url,
        USER_KEY,
        &format!(
            "on-calls?users=10002&from={}&until={}",
            wire(outer_from),
            wire(outer_until)
        ),
    )
    .await;
    let policies: BTreeSet<i64> = mine
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| {
            at(&o["start"]).is_some_and(|s| s <= inner_until)
                && at(&o["end"]).is_some_and(|e| e >= inner_from)
        })
        .filter_map(|o| o["escalationPolicy"]["id"].as_i64())
        .collect();
    let scope = policies_query(&policies);
    // What came in.
    let reported = alerts(
        &h.sandbox_url,
        &format!(
            "{scope}&from={}&until={}",
            wire(outer_from - Duration::minutes(1)),
            wire(outer_until)
        ),
    )
    .await;
    let within =
        |a: &Value, from, until| at(&a["reportTime"]).is_some_and(|t| from <= t && t <= until);
    let inner: BTreeSet<i64> = reported
        .iter()
        .filter(|a| within(a, inner_from, inner_until))
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    let outer: BTreeSet<i64> = reported
        .iter()
        .filter(|a| within(a, outer_from, outer_until))
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    let came_in = ids_after(&answer, "reported in the window: ");
    let structured_ids = |key: &str| -> BTreeSet<i64> {
        structured(&result)[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect()
    };
    assert_eq!(
        structured_ids("came_in"),
        came_in,
        "structuredContent cites the same ids"
    );
    assert!(inner.len() <= 15, "the test expects every id listed");
    assert!(
        inner.is_subset(&came_in),
        "{inner:?} in {came_in:?}: {answer}"
    );
    assert!(
        came_in.is_subset(&outer),
        "{came_in:?} within {outer:?}: {answer}"
    );
    // Still open, with who has it.
    let open = alerts(
        &h.sandbox_url,
        &format!("{scope}&states=PENDING&states=ACCEPTED"),
    )
    .await;
    let still_open = section(&answer, "Still open:", "Changed state");
    assert!(
        still_open.starts_with(&format!("Still open: {} alert(s)", open.len())),
        "{still_open}"
    );
    for a in &open {
        let id = a["id"].as_i64().unwrap();
        let line = still_open
            .lines()
            .find(|l| l.starts_with(&format!("- {id} ")))
            .unwrap_or_else(|| panic!("open alert {id} listed: {still_open}"));
        // Who has it: those who accepted it, else everyone assigned.
        let responders = a["responders"].as_array().unwrap();
        let accepted: Vec<&Value> = responders
            .iter()
            .filter(|r| r["status"] == "ACCEPTED")
            .collect();
        let holders = if accepted.is_empty() {
            responders.iter().collect()
        } else {
            accepted
        };
        for r in holders {
            assert!(line.contains(&name(&r["user"])), "{line}");
        }
    }
    // What changed state in the window, by when it happened (reported up to a week before).
    let earlier = alerts(
        &h.sandbox_url,
        &format!(
            "{scope}&from={}&until={}",
            wire(outer_from - Duration::days(7)),
            wire(outer_until)
        ),
    )
    .await;
    let candidates: Vec<&Value> = open.iter().chain(earlier.iter()).collect();
    let changed_inner: BTreeSet<i64> = candidates
        .iter()
        .filter(|a| changed_in(a, inner_from, inner_until))
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    let changed_outer: BTreeSet<i64> = candidates
        .iter()
        .filter(|a| changed_in(a, outer_from, outer_until))
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    let changed = section(&answer, "Changed state in the window", "Status updates");
    let listed: BTreeSet<i64> = changed
        .lines()
        .skip(1)
        .filter_map(|l| l.strip_prefix("- ")?.split(' ').next()?.parse().ok())
        .collect();
    assert!(
        changed_inner.is_subset(&listed),
        "{changed_inner:?}: {changed}"
    );
    assert!(
        listed.is_subset(&changed_outer),
        "{changed_outer:?}: {changed}"
    );
    // Status updates posted in the window.
    let incidents = sandbox_get(&h.sandbox_url, USER_KEY, "incidents?max-results=50").await;
    let (mut inner_updates, mut outer_updates) = (0, 0);
    for i in incidents.as_array().unwrap() {
        let id = i["id"].as_i64().unwrap();
        let full = sandbox_get(
            &h.sandbox_url,
            USER_KEY,
            &format!("incidents/{id}?include=history"),
        )
        .await;
        for u in full["history"].as_array().into_iter().flatten() {
            let t = at(&u["createdAt"]).unwrap();
            inner_updates += usize::from(inner_from <= t && t <= inner_until);
            outer_updates += usize::from(outer_from <= t && t <= outer_until);
        }
    }
    let updates = section(&answer, "Status updates posted", "On call next");
    let n: usize = updates
        .trim_start_matches("Status updates posted in the window: ")
        .split([':', '.'])
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (inner_updates..=outer_updates).contains(&n),
        "{inner_updates}..={outer_updates}: {updates}"
    );
}

#[tokio::test]
async fn handover_of_the_current_shift_starts_when_it_began_and_names_who_is_next() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let berlin = Tz::Europe__Berlin;
    let now = Utc::now();
    let mine = sandbox_get(
        &h.sandbox_url,
        USER_KEY,
        &format!(
            "on-calls?users=10002&from={}&until={}",
            wire(now - Duration::days(14)),
            wire(now + Duration::minutes(1))
        ),
    )
    .await;
    let result = call(&client, "get_handover", json!({"timezone": "Berlin"})).await;
    let answer = text(&result);
    // The shift under way that started last (the shorter on a tie), else the last one that ended.
    let shifts: Vec<(DateTime<Utc>, DateTime<Utc>, &Value)> = mine
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| Some((at(&o["start"])?, at(&o["end"])?, o)))
        .collect();
    let current = shifts
        .iter()
        .filter(|(s, e, _)| *s <= now && now < *e)
        .max_by_key(|(s, e, _)| (*s, std::cmp::Reverse(*e)));
    let last = shifts
        .iter()
        .filter(|(_, e, _)| *e <= now)
        .max_by_key(|(_, e, _)| *e);
    let Some((start, end, shift)) = current.or(last) else {
        err(&result, &["no on-call shift", "hours"]);
        return;
    };
    assert!(!is_error(&result), "{answer}");
    assert!(
        answer.contains(&format!("from {}", show(*start, berlin))),
        "the window starts with the shift: {answer}"
    );
    if current.is_none() {
        assert!(
            answer.contains(&format!("to {}", show(*end, berlin))),
            "{answer}"
        );
        return;
    }
    assert!(answer.contains("your current shift"), "{answer}");
    // Who covers the same policy and level when the shift ends.
    let policy = shift["escalationPolicy"]["id"].as_i64().unwrap();
    let level = shift["escalationLevel"].as_f64().unwrap_or(1.0) as i64;
    let at_end = sandbox_get(
        &h.sandbox_url,
        USER_KEY,
        &format!(
            "on-calls?policies={policy}&expand=user&from={}&until={}",
            wire(*end),
            wire(*end + Duration::minutes(1))
        ),
    )
    .await;
    let next = at_end
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["escalationLevel"].as_f64().unwrap_or(1.0) as i64 == level)
        .filter(|o| at(&o["end"]).is_some_and(|e| e > *end))
        .min_by_key(|o| at(&o["start"]));
    let next_section = section(&answer, "On call next:", "\nState changes");
    match next {
        Some(o) => {
            let from = at(&o["start"]).unwrap().max(*end);
            assert!(
                next_section.contains(&format!(
                    "\"{}\" from {}",
                    name(&o["user"]),
                    show(from, berlin)
                )),
                "{next_section}"
            );
        }
        None => assert!(next_section.contains("nobody found"), "{next_section}"),
    }
}

#[tokio::test]
async fn postmortem_draft_of_the_checkout_incident_matches_the_sandbox() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let incidents = sandbox_get(&h.sandbox_url, USER_KEY, "incidents?max-results=50").await;
    let id = incidents
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["summary"] == "Elevated checkout errors")
        .expect("the seed's open incident")["id"]
        .as_i64()
        .unwrap();
    let result = call(&client, "get_postmortem_draft", json!({"incident": id})).await;
    let now = Utc::now();
    assert!(!is_error(&result), "{}", text(&result));
    let md = text(&result);
    let incident = sandbox_get(
        &h.sandbox_url,
        USER_KEY,
        &format!("incidents/{id}?include=history"),
    )
    .await;
    assert!(md.starts_with(&format!(
        "# Postmortem draft: incident {id} \"Elevated checkout errors\""
    )));
    // Services affected.
    for s in incident["affectedServices"].as_array().unwrap() {
        assert!(
            md.contains(&format!(
                "\"{}\" ({})",
                s["service"]["name"].as_str().unwrap(),
                s["impact"].as_str().unwrap()
            )),
            "{md}"
        );
    }
    // Subscribers told: the updates sent with a notification.
    let history = incident["history"].as_array().unwrap();
    let sent = history
        .iter()
        .filter(|u| u["sendNotification"] == true)
        .count();
    assert!(
        md.contains(&format!(
            "Updates sent to subscribers: {sent} of {} status update(s).",
            history.len()
        )),
        "{md}"
    );
    for u in history {
        assert!(
            md.contains(&format!("\"{}\"", u["content"].as_str().unwrap())),
            "{md}"
        );
    }
    // The alerts: ilert links none, so those of the sources on an affected service or team,
    // reported from an hour before the incident opened.
    let services: Vec<i64> = incident["affectedServices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service"]["id"].as_i64().unwrap())
        .collect();
    let teams: Vec<i64> = incident["affectedServices"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["service"]["teams"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    let sources = sandbox_get(&h.sandbox_url, USER_KEY, "alert-sources?max-results=50").await;
    let hit: Vec<i64> = sources
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            let any = |field: &str, ids: &[i64]| {
                s[field]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|x| ids.contains(&x["id"].as_i64().unwrap()))
            };
            any("services", &services) || any("teams", &teams)
        })
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    let opened = at(&incident["createdAt"]).unwrap();
    let mut related: Vec<Value> = alerts(
        &h.sandbox_url,
        &format!(
            "from={}&until={}",
            wire(opened - Duration::minutes(60)),
            wire(now)
        ),
    )
    .await
    .into_iter()
    .filter(|a| hit.contains(&a["alertSource"]["id"].as_i64().unwrap()))
    .collect();
    related.sort_by_key(|a| (at(&a["reportTime"]), a["id"].as_i64()));
    related.truncate(5);
    assert!(
        !related.is_empty(),
        "the seed has alerts on the checkout sources"
    );
    let listed: Vec<String> = related
        .iter()
        .map(|a| a["id"].as_i64().unwrap().to_string())
        .collect();
    assert!(
        md.contains(&format!("- Alerts: {} (", listed.join(", "))),
        "{listed:?}: {md}"
    );
    for a in &related {
        let aid = a["id"].as_i64().unwrap();
        // Time to acknowledge, from the responders' acceptedAt.
        let reported = at(&a["reportTime"]).unwrap();
        let accepted = a["responders"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| Some((at(&r["acceptedAt"])?, name(&r["user"]))))
            .min_by_key(|(t, _)| *t);
        match accepted {
            Some((t, who)) => {
                let mins = (t - reported).num_minutes();
                assert!(
                    md.contains(&format!("acknowledged after {mins} min by \"{who}\"")),
                    "{aid}: {md}"
                );
            }
            None => assert!(
                md.contains(&format!("- Alert {aid} (")) && md.contains("never acknowledged"),
                "{aid}: {md}"
            ),
        }
        // Failed notifications and later escalation levels are marked as gaps.
        let notifications = sandbox_get(
            &h.sandbox_url,
            USER_KEY,
            &format!("alerts/{aid}/notifications"),
        )
        .await;
        let all = notifications.as_array().unwrap();
        let failed = all.iter().filter(|n| n["status"] == "ERROR").count();
        if failed > 0 {
            assert!(
                md.contains(&format!(
                    "- Alert {aid}: {failed} of {} notification(s) failed",
                    all.len()
                )),
                "{aid}: {md}"
            );
        }
        for n in all {
            assert!(
                md.contains(&format!("\"{}\"", name_lower(&n["user"]))),
                "paged: {md}"
            );
        }
        let log = sandbox_get(
            &h.sandbox_url,
            USER_KEY,
            &format!("alerts/{aid}/log-entries?max-results=100"),
        )
        .await;
        for e in log.as_array().unwrap() {
            let text = e["text"].as_str().unwrap();
            if e["logEntryType"] == "AlertEscalatedToLevelLogEntry" && !text.contains("level 1 ") {
                // A page is a notification at or after the escalation; ilert logs one without it
                // when the level's people were paged already.
                let when = at(&e["timestamp"]).unwrap();
                let sent = all
                    .iter()
                    .any(|n| at(&n["notificationTime"]).is_some_and(|t| t >= when));
                assert!(
                    md.contains(&format!(
                        "- Alert {aid}: level {} {} at {}",
                        text.split("level ")
                            .nth(1)
                            .unwrap()
                            .split(' ')
                            .next()
                            .unwrap(),
                        if sent { "paged" } else { "escalated to" },
                        show(when, Tz::UTC)
                    )),
                    "{text}: {md}"
                );
            }
        }
    }
    assert!(
        !md.to_lowercase().contains("root cause"),
        "facts only: {md}"
    );
}

fn name_lower(user: &Value) -> String {
    format!(
        "{} {}",
        user["firstname"].as_str().unwrap_or(""),
        user["lastname"].as_str().unwrap_or("")
    )
}

#[tokio::test]
async fn postmortem_draft_of_an_alert_and_its_errors() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let resolved = alert_ids(&h.sandbox_url, "RESOLVED").await;
    let id = resolved[0];
    let alert = sandbox_get(&h.sandbox_url, USER_KEY, &format!("alerts/{id}")).await;
    let result = call(
        &client,
        "get_postmortem_draft",
        json!({"alert": id, "timezone": "Asia/Tokyo"}),
    )
    .await;
    assert!(!is_error(&result), "{}", text(&result));
    let md = text(&result);
    let mins =
        (at(&alert["resolvedOn"]).unwrap() - at(&alert["reportTime"]).unwrap()).num_minutes();
    assert!(
        md.contains(&format!("resolved after {mins} min")) || mins >= 120,
        "{md}"
    );
    assert!(
        md.contains(&format!(
            "reported {}",
            show(at(&alert["reportTime"]).unwrap(), Tz::Asia__Tokyo)
        )),
        "{md}"
    );
    err(
        &call(&client, "get_postmortem_draft", json!({})).await,
        &["either `incident` or `alert`"],
    );
    err(
        &call(
            &client,
            "get_postmortem_draft",
            json!({"alert": id, "incident": 1}),
        )
        .await,
        &["either `incident` or `alert`"],
    );
    err(
        &call(&client, "get_postmortem_draft", json!({"alert": 999_999})).await,
        &["999999"],
    );
    err(
        &call(&client, "get_handover", json!({"hours": 500})).await,
        &["`hours` must be 1 to 72"],
    );
}

/// A still-open alert nobody accepted says when its notifications reached nobody, as the
/// sandbox's notification list has it (a helper playing the model read 4722's handover line as
/// "assigned to Jonas Weber" although every notification had failed).
#[tokio::test]
async fn handover_says_which_open_alerts_reached_nobody() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let result = call(&client, "get_handover", json!({"hours": 72})).await;
    let answer = text(&result);
    let mut flagged = 0;
    for line in answer
        .lines()
        .filter(|l| l.starts_with("- ") && l.contains(" PENDING \""))
    {
        let id: i64 = line[2..].split(' ').next().unwrap().parse().unwrap();
        let (_, all_failed) = notifications_failed(&h.sandbox_url, id).await;
        assert_eq!(line.contains("nobody reached"), all_failed, "{line}");
        flagged += usize::from(all_failed);
    }
    assert!(
        flagged >= 1,
        "the seed holds an open alert nobody was reached for: {answer}"
    );
}

/// A timeline longer than one page (a comment flood from an integration key) is said to be read
/// only in part, so a draft without the alert's creation or acceptance does not pass for whole
/// (found by a helper playing the attacker). The entry count comes from the sandbox's REST API.
#[tokio::test]
async fn a_postmortem_says_when_a_timeline_was_read_in_part() {
    use crate::hostile::{INTEGRATION_KEY, send_event};
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    send_event(
        &h.sandbox_url,
        json!({"integrationKey": INTEGRATION_KEY, "eventType": "ALERT", "alertKey": "flooded",
               "summary": "queue depth high"}),
    )
    .await;
    let comments: Vec<Value> = (0..120)
        .map(|i| json!({"creator": "Priya Nair", "content": format!("update {i}: still on it")}))
        .collect();
    send_event(
        &h.sandbox_url,
        json!({"integrationKey": INTEGRATION_KEY, "eventType": "COMMENT", "alertKey": "flooded",
               "comments": comments}),
    )
    .await;
    let alerts = sandbox_get(&h.sandbox_url, ADMIN_KEY, "alerts?max-results=100").await;
    let id = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["alertKey"] == "flooded")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let log = sandbox_get(
        &h.sandbox_url,
        ADMIN_KEY,
        &format!("alerts/{id}/log-entries?max-results=100"),
    )
    .await;
    assert_eq!(
        log.as_array().unwrap().len(),
        100,
        "a full page: more entries than one page holds"
    );
    let md = text(&call(&client, "get_postmortem_draft", json!({"alert": id})).await);
    assert!(
        md.contains(&format!(
            "Only 100 timeline entries of alert {id} were read"
        )),
        "{md}"
    );
    // An alert with a short timeline carries no such note.
    let other = open_alerts(&h.sandbox_url)
        .await
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .find(|a| *a != id)
        .unwrap();
    let md = text(&call(&client, "get_postmortem_draft", json!({"alert": other})).await);
    assert!(!md.contains("timeline entries of alert"), "{md}");
}
