//! Issue 12's defects, each checked against the truth: the figure a tool gives is computed again
//! here from the sandbox's own REST API (or first principles), never through the tool's helpers.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::common::*;
use crate::tools_support::*;

fn at(raw: &Value) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw.as_str()?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Every alert reported in `[from, until)`, as the sandbox lists them.
async fn alerts_between(sandbox: &str, from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<Value> {
    let path = format!(
        "alerts?states=PENDING&states=ACCEPTED&states=RESOLVED&from={}&until={}&max-results=100",
        iso(from),
        iso(until)
    );
    sandbox_get(sandbox, USER_KEY, &path)
        .await
        .as_array()
        .unwrap()
        .clone()
}

/// Seconds from report to first accept, and to resolution, for one alert.
fn delays(alert: &Value) -> (Option<i64>, Option<i64>) {
    let reported = at(&alert["reportTime"]).unwrap();
    let accepted = alert["responders"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| at(&r["acceptedAt"]))
        .min();
    let resolved = at(&alert["resolvedOn"]);
    (
        accepted.map(|a| (a - reported).num_seconds()),
        resolved.map(|r| (r - reported).num_seconds()),
    )
}

fn mean_minutes(seconds: &[i64]) -> Option<f64> {
    (!seconds.is_empty()).then(|| {
        let mean = seconds.iter().sum::<i64>() as f64 / seconds.len() as f64;
        (mean / 6.0).round() / 10.0
    })
}

/// Defect 1: MTTA and MTTR per week are the means over the alerts themselves, and (7) counts are
/// integers and periods carry their dates.
#[tokio::test]
async fn metrics_mtta_and_mttr_are_the_alerts_own_means() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let until = Utc::now();
    let from = until - Duration::days(30);
    let result = call(
        &client,
        "get_alert_metrics",
        json!({"from": iso(from), "until": iso(until), "group_by": "week"}),
    )
    .await;
    let out = ok(&result);
    assert_eq!(out["group_by"], "WEEK");

    // The truth: the sandbox's alerts, bucketed by ISO week of their report time (UTC).
    let alerts = alerts_between(&h.sandbox_url, from, until).await;
    let mut weeks: BTreeMap<String, (u64, Vec<i64>, Vec<i64>)> = BTreeMap::new();
    for a in &alerts {
        let week = at(&a["reportTime"]).unwrap().format("%G-W%V").to_string();
        let entry = weeks.entry(week).or_default();
        entry.0 += 1;
        let (accept, resolve) = delays(a);
        entry.1.extend(accept);
        entry.2.extend(resolve);
    }
    let buckets = out["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), weeks.len(), "{buckets:?}");
    for (b, (week, (count, accepts, resolves))) in buckets.iter().zip(&weeks) {
        assert_eq!(&b["bucket"], week);
        assert!(b["count"].is_u64(), "counts are integers: {b}");
        assert_eq!(b["count"].as_u64(), Some(*count), "{week}");
        assert_eq!(
            b["mtta_minutes"].as_f64(),
            mean_minutes(accepts),
            "{week} MTTA"
        );
        assert_eq!(
            b["mttr_minutes"].as_f64(),
            mean_minutes(resolves),
            "{week} MTTR"
        );
        // Labelled with its dates: Monday to Sunday.
        let start =
            chrono::NaiveDate::parse_from_str(b["start"].as_str().unwrap(), "%Y-%m-%d").unwrap();
        assert_eq!(start.format("%G-W%V").to_string(), *week);
        assert_eq!(start.weekday(), chrono::Weekday::Mon);
        // Partial when the window leaves out part of the week: it starts after Monday 00:00 or
        // ends before the next Monday 00:00 (UTC, the zone asked for).
        let monday = start.and_time(chrono::NaiveTime::MIN).and_utc();
        let partial = from > monday || until < monday + Duration::weeks(1);
        // `partial` is left out when false.
        assert_eq!(
            b["partial"].as_bool().unwrap_or(false),
            partial,
            "{week}: {b}"
        );
    }
    let all: Vec<i64> = alerts.iter().filter_map(|a| delays(a).0).collect();
    assert_eq!(out["total"]["count"].as_u64(), Some(alerts.len() as u64));
    assert_eq!(out["total"]["mtta_minutes"].as_f64(), mean_minutes(&all));
    // Each mean says how many alerts it rests on (issue 23: "MTTA 26 min" was 1 alert of 4).
    let resolved = alerts.iter().filter(|a| delays(a).1.is_some()).count();
    let first_line = text(&result).lines().next().unwrap().to_owned();
    assert!(
        first_line.contains(&format!("({} accepted)", all.len()))
            && first_line.contains(&format!("({resolved} resolved)")),
        "{first_line}"
    );

    // What the old code did (ilert's per-source-and-policy means weighted by all their alerts)
    // differs from the truth in at least one of these weeks: this test fails on it.
    let report = |metric: &str| {
        format!(
            "reports/alerts?metric={metric}&group-by=WEEK&from={}&until={}",
            iso(from),
            iso(until)
        )
    };
    let counts = sandbox_get(&h.sandbox_url, USER_KEY, &report("COUNT")).await;
    let mttas = sandbox_get(&h.sandbox_url, USER_KEY, &report("MTTA")).await;
    let weighted_wrong = weeks.keys().any(|week| {
        let (mut sum, mut weight) = (0.0, 0.0);
        for row in mttas.as_array().unwrap() {
            if row[3] != *week {
                continue;
            }
            let n = counts
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c[3] == *week && c[0] == row[0] && c[1] == row[1])
                .map_or(1.0, |c| c[4].as_f64().unwrap());
            sum += row[4].as_f64().unwrap() * n;
            weight += n;
        }
        let old = (weight > 0.0).then(|| ((sum / weight) / 6.0).round() / 10.0);
        old != mean_minutes(&weeks[week].1)
    });
    assert!(weighted_wrong, "the seed must tell the two means apart");
}

/// Defect 7: "which source is noisiest": counts per source and per policy, most first, equal to
/// ilert's own summary report.
#[tokio::test]
async fn metrics_break_down_by_source_and_policy() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Stateless).await;
    let until = Utc::now();
    let from = until - Duration::days(30);
    let result = call(
        &client,
        "get_alert_metrics",
        json!({"from": iso(from), "until": iso(until), "group_by": "Month"}),
    )
    .await;
    let out = ok(&result);
    let summary = sandbox_get(
        &h.sandbox_url,
        USER_KEY,
        &format!(
            "reports/alerts/summary?from={}&until={}",
            iso(from),
            iso(until)
        ),
    )
    .await;
    for (field, key) in [
        ("by_source", "alertSourceId"),
        ("by_policy", "escalationPolicyId"),
    ] {
        let mut truth: BTreeMap<i64, u64> = BTreeMap::new();
        for row in summary.as_array().unwrap() {
            *truth.entry(row[key].as_i64().unwrap()).or_default() += row["count"].as_u64().unwrap();
        }
        let groups = out[field].as_array().unwrap();
        let got: BTreeMap<i64, u64> = groups
            .iter()
            .map(|g| (g["id"].as_i64().unwrap(), g["count"].as_u64().unwrap()))
            .collect();
        assert_eq!(got, truth, "{field}");
        let counts: Vec<u64> = groups
            .iter()
            .map(|g| g["count"].as_u64().unwrap())
            .collect();
        assert!(
            counts.windows(2).all(|w| w[0] >= w[1]),
            "most first: {counts:?}"
        );
        assert!(
            groups
                .iter()
                .all(|g| g["name"].as_str().is_some_and(|n| !n.is_empty()))
        );
    }
    let noisiest = &out["by_source"][0];
    assert!(
        text(&result).contains(&format!(
            "\"{}\" (id {}): {} alerts",
            noisiest["name"].as_str().unwrap(),
            noisiest["id"],
            noisiest["count"]
        )),
        "{}",
        text(&result)
    );
}

/// Defect 3: "me" is the key's owner (Jonas Weber), never Arjun Mehta whose name holds "me"; the
/// answer says whom the name resolved to.
#[tokio::test]
async fn me_is_the_keys_owner_in_every_tool_that_takes_a_user() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let me = sandbox_get(&h.sandbox_url, USER_KEY, "users/current").await;
    let my_id = me["id"].as_i64().unwrap();
    assert_eq!(my_id, 10002);
    for word in ["me", "Me", "myself", "I"] {
        let result = call(&client, "who_is_on_call", json!({"user": word})).await;
        let out = ok(&result);
        assert!(
            out["on_call"]
                .as_array()
                .unwrap()
                .iter()
                .all(|o| o["user"]["id"] == my_id),
            "{out}"
        );
        assert!(
            text(&result).contains(&format!("user {word:?} is \"Jonas Weber\" (id {my_id})")),
            "{}",
            text(&result)
        );
    }
    let mine = call(&client, "list_alerts", json!({"responders": ["me"]})).await;
    let truth = sandbox_get(
        &h.sandbox_url,
        USER_KEY,
        &format!("alerts?states=PENDING&states=ACCEPTED&responders={my_id}&max-results=100"),
    )
    .await;
    assert_eq!(ids(&ok(&mine)["alerts"]), ids(&truth));
    assert!(!ids(&truth).is_empty(), "the seed gives Jonas open alerts");
    assert!(
        text(&mine).contains("is \"Jonas Weber\" (id 10002)"),
        "{}",
        text(&mine)
    );
}

/// Defect 9: list_alerts takes sources, policies and responders by name, filters by priority,
/// severity and age, and its rows carry the escalation policy.
#[tokio::test]
async fn list_alerts_takes_names_priority_severity_and_age() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Stateless).await;
    let open = open_alerts(&h.sandbox_url).await;
    let open_ids = |keep: &dyn Fn(&Value) -> bool| -> Vec<i64> {
        open.iter()
            .filter(|a| keep(a))
            .map(|a| a["id"].as_i64().unwrap())
            .collect()
    };

    let by_name = call(
        &client,
        "list_alerts",
        json!({"sources": ["datadog apm"], "policies": "checkout on-call"}),
    )
    .await;
    let rows = ok(&by_name)["alerts"].as_array().unwrap().clone();
    assert_eq!(
        ids(&ok(&by_name)["alerts"]),
        open_ids(&|a| a["alertSource"]["name"] == "Datadog APM"
            && a["escalationPolicy"]["name"] == "Checkout on-call")
    );
    assert!(!rows.is_empty());
    for row in &rows {
        let truth = open.iter().find(|a| a["id"] == row["id"]).unwrap();
        assert_eq!(
            row["policy"]["id"], truth["escalationPolicy"]["id"],
            "{row}"
        );
        assert_eq!(
            row["policy"]["name"], truth["escalationPolicy"]["name"],
            "{row}"
        );
    }
    assert!(
        text(&by_name).contains("→ \"Checkout on-call\""),
        "{}",
        text(&by_name)
    );

    let high = call(&client, "list_alerts", json!({"priority": "high"})).await;
    assert_eq!(
        ids(&ok(&high)["alerts"]),
        open_ids(&|a| a["priority"] == "HIGH")
    );

    let severe = call(&client, "list_alerts", json!({"severity": [1, 2]})).await;
    assert_eq!(
        ids(&ok(&severe)["alerts"]),
        open_ids(&|a| a["severity"].as_i64().is_some_and(|s| s <= 2))
    );

    // Open and unaccepted for more than 2 hours.
    let cutoff = Utc::now() - Duration::hours(2);
    let stale = call(
        &client,
        "list_alerts",
        json!({"states": ["pending"], "older_than_hours": 2}),
    )
    .await;
    let expected =
        open_ids(&|a| a["status"] == "PENDING" && at(&a["reportTime"]).unwrap() < cutoff);
    assert!(!expected.is_empty(), "the seed has an old pending alert");
    assert_eq!(ids(&ok(&stale)["alerts"]), expected);
}

/// Defect 8: one time grammar: relative times, times without offset read in `timezone` (a city
/// name will do), and the answer states the window it used.
#[tokio::test]
async fn list_alerts_reads_relative_and_local_times_and_states_the_window() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let result = call(
        &client,
        "list_alerts",
        json!({"states": ["RESOLVED", "pending", "Accepted"], "from": "7 days ago", "limit": 100}),
    )
    .await;
    let from = Utc::now() - Duration::days(7);
    let truth = alerts_between(&h.sandbox_url, from, Utc::now() + Duration::hours(1)).await;
    assert_eq!(ids(&ok(&result)["alerts"]), ids(&Value::Array(truth)));
    let window = ok(&result)["window"].as_str().unwrap().to_owned();
    assert!(window.starts_with("since "), "{window}");
    assert!(
        text(&result).contains(&format!("Reported {window}.")),
        "{}",
        text(&result)
    );

    // A date without offset is midnight in Berlin; times are shown in Berlin.
    let berlin: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    let day = date_in(berlin, -3);
    let result = call(
        &client,
        "list_alerts",
        json!({"states": ["resolved", "pending", "accepted"], "from": day.to_string(),
               "timezone": "berlin", "limit": 100}),
    )
    .await;
    let midnight = day
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_local_timezone(berlin)
        .unwrap()
        .with_timezone(&Utc);
    let truth = alerts_between(&h.sandbox_url, midnight, Utc::now() + Duration::hours(1)).await;
    let out = ok(&result);
    assert_eq!(ids(&out["alerts"]), ids(&Value::Array(truth)));
    let window = out["window"].as_str().unwrap();
    assert_eq!(
        window,
        format!(
            "since {}",
            midnight
                .with_timezone(&berlin)
                .to_rfc3339_opts(SecondsFormat::Secs, true)
        )
    );
    for row in out["alerts"].as_array().unwrap() {
        let t = row["reported_at"].as_str().unwrap();
        assert!(t.ends_with("+01:00") || t.ends_with("+02:00"), "{t}");
    }
}

/// Defect 8: enums in any case, everywhere.
#[tokio::test]
async fn enums_are_case_insensitive() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let metrics = call(&client, "get_alert_metrics", json!({"group_by": "week"})).await;
    assert_eq!(ok(&metrics)["group_by"], "WEEK");
    let incidents = call(&client, "list_incidents", json!({"states": ["identified"]})).await;
    assert_eq!(ids(&ok(&incidents)["incidents"]), vec![9004]);
    let windows = call(
        &client,
        "list_maintenance_windows",
        json!({"state": "open"}),
    )
    .await;
    ok(&windows);
}

/// Defect 6: the overview ranks as an on-call engineer would (priority, severity, yours, linked
/// to the ongoing incident, oldest first), shows every time in the asked zone, and says when now is.
#[tokio::test]
async fn overview_ranks_by_urgency_and_shows_every_time_in_the_zone() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let before = Utc::now();
    let result = call(&client, "get_overview", json!({"timezone": "asia/tokyo"})).await;
    let out = ok(&result);

    // The truth: open alerts; sources linked to the ongoing incident through its services'
    // teams; the caller from /users/current.
    let open = open_alerts(&h.sandbox_url).await;
    let me = sandbox_get(&h.sandbox_url, USER_KEY, "users/current").await["id"].clone();
    let incidents = sandbox_get(&h.sandbox_url, USER_KEY, "incidents").await;
    let teams: Vec<Value> = incidents
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] != "RESOLVED")
        .flat_map(|i| i["affectedServices"].as_array().unwrap().clone())
        .flat_map(|s| {
            s["service"]["teams"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|t| t["id"].clone())
        .collect();
    let sources = sandbox_get(&h.sandbox_url, USER_KEY, "alert-sources").await;
    let linked: Vec<Value> = sources
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            s["teams"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| teams.contains(&t["id"]))
        })
        .map(|s| s["id"].clone())
        .collect();
    let mut expected = open.clone();
    expected.sort_by_key(|a| {
        let mine = a["responders"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["user"]["id"] == me);
        (
            a["priority"] != "HIGH",
            a["severity"].as_i64().unwrap_or(6),
            !mine,
            !linked.contains(&a["alertSource"]["id"]),
            at(&a["reportTime"]).unwrap(),
        )
    });
    let expected: Vec<i64> = expected
        .iter()
        .take(10)
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids(&out["top_alerts"]), expected);
    // The seed's sev1, Jonas's own and on the checkout incident, comes first; the old ranking
    // (PENDING HIGH newest first) put a sev2 above it.
    let first = open.iter().find(|a| a["id"] == expected[0]).unwrap();
    assert_eq!(first["severity"], 1);
    let newest_pending_high = open
        .iter()
        .filter(|a| a["status"] == "PENDING" && a["priority"] == "HIGH")
        .max_by_key(|a| at(&a["reportTime"]).unwrap())
        .unwrap();
    assert_ne!(newest_pending_high["id"], first["id"]);

    // Every time in the answer is in Tokyo.
    fn times(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) if s.len() >= 20 && DateTime::parse_from_rfc3339(s).is_ok() => {
                out.push(s.clone())
            }
            Value::Array(items) => items.iter().for_each(|i| times(i, out)),
            Value::Object(map) => map.values().for_each(|i| times(i, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    times(out, &mut all);
    assert!(all.len() > 10, "{all:?}");
    assert!(all.iter().all(|t| t.ends_with("+09:00")), "{all:?}");
    let now = at(&out["now"]).unwrap();
    assert!(now >= before - Duration::seconds(1) && now <= Utc::now() + Duration::seconds(1));
    assert!(text(&result).starts_with(&format!("Now {}.", out["now"].as_str().unwrap())));
}

/// Defect 11: a team without escalation policies is an answer ("nobody is on call"), not an
/// error; and no input schema offers `null` among an enum's values.
#[tokio::test]
async fn nobody_on_call_is_an_answer_and_enums_hold_no_null() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let teams = sandbox_get(&h.sandbox_url, USER_KEY, "teams").await;
    let policies = sandbox_get(&h.sandbox_url, USER_KEY, "escalation-policies").await;
    let lonely = teams.as_array().unwrap().iter().find(|t| {
        !policies.as_array().unwrap().iter().any(|p| {
            p["teams"]
                .as_array()
                .unwrap()
                .iter()
                .any(|pt| pt["id"] == t["id"])
        })
    });
    let team = lonely.expect("the seed has a team without policies (Customer Care)");
    let result = call(&client, "who_is_on_call", json!({"team": team["name"]})).await;
    assert_eq!(ok(&result)["on_call"], json!([]));
    assert!(
        text(&result).contains("nobody is on call"),
        "{}",
        text(&result)
    );
    let tools = client.list_all_tools().await.unwrap();
    for tool in tools {
        let schema = serde_json::to_string(&tool.input_schema).unwrap();
        assert!(
            !schema.contains("null]") && !schema.contains(",null"),
            "{}: {schema}",
            tool.name
        );
    }
}

/// Defect 2: paging the on-call keeps escalation on, and the answer says who is paged now and
/// who comes next, and when.
#[tokio::test]
async fn create_alert_paging_the_on_call_keeps_escalation() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let result = call(
        &client,
        "create_alert",
        json!({"source": "Checkout API", "summary": "Checkout down for EU", "page_on_call": true}),
    )
    .await;
    let out = ok(&result);
    let id = out["alert"]["id"].as_i64().unwrap();
    let truth = sandbox_get(
        &h.sandbox_url,
        USER_KEY,
        &format!("alerts/{id}?include=nextEscalationUser"),
    )
    .await;
    let next_at = at(&truth["nextEscalation"]).expect("escalation stays on: nextEscalation is set");
    let next_user = &truth["nextEscalationUser"];
    assert!(next_user["id"].is_i64(), "{truth}");
    // Paged now: the policy's level-1 on-call, as /on-calls has them.
    let policy = truth["escalationPolicy"]["id"].as_i64().unwrap();
    let on_calls = sandbox_get(
        &h.sandbox_url,
        USER_KEY,
        &format!("on-calls?policies={policy}"),
    )
    .await;
    let mut level_one: Vec<i64> = on_calls
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["escalationLevel"] == 1)
        .map(|o| o["user"]["id"].as_i64().unwrap())
        .collect();
    level_one.sort_unstable();
    let mut paged = ids(&out["responders"]);
    paged.sort_unstable();
    assert_eq!(paged, level_one);
    assert_eq!(out["next_escalation_user"]["id"], next_user["id"]);
    let said = text(&result);
    let next_name = format!(
        "{} {}",
        next_user["firstName"].as_str().unwrap(),
        next_user["lastName"].as_str().unwrap()
    );
    assert!(
        said.contains(&format!(
            "escalates to \"{next_name}\" (id {}) at {}",
            next_user["id"],
            next_at.to_rfc3339_opts(SecondsFormat::Secs, true)
        )),
        "{said}"
    );
}

/// Defect 11: shifts mark overrides and whom they replace (the rotation without overrides, from
/// the sandbox's own `exclude-overrides`).
#[tokio::test]
async fn schedule_shifts_mark_overrides_and_whom_they_replace() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let seeded = sandbox_get(&h.sandbox_url, USER_KEY, "schedules/7001/overrides").await;
    // The override that starts last (tomorrow's swap); any other ends before it starts.
    let o = seeded
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|o| at(&o["start"]).unwrap())
        .unwrap();
    let (start, end) = (at(&o["start"]).unwrap(), at(&o["end"]).unwrap());
    assert!(
        seeded
            .as_array()
            .unwrap()
            .iter()
            .all(|other| other == o || at(&other["end"]).unwrap() <= start),
        "{seeded}"
    );
    let base = sandbox_get(
        &h.sandbox_url,
        USER_KEY,
        &format!(
            "schedules/7001/shifts?from={}&until={}&exclude-overrides=true",
            iso(start),
            iso(end)
        ),
    )
    .await;
    let replaced: Vec<i64> = base
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["user"]["id"].as_i64().unwrap())
        .filter(|id| Some(*id) != o["user"]["id"].as_i64())
        .collect();
    assert!(
        !replaced.is_empty(),
        "the seeded override stands in for someone"
    );
    let result = call(
        &client,
        "get_schedule_shifts",
        json!({"schedule": "checkout primary", "from": iso(start - Duration::hours(1)),
               "until": iso(end + Duration::hours(1))}),
    )
    .await;
    let shifts = ok(&result)["shifts"].as_array().unwrap().clone();
    // Marked: the overrides that overlap the hours asked for, and nothing else.
    let (asked_from, asked_until) = (start - Duration::hours(1), end + Duration::hours(1));
    let overlapping = seeded
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| at(&x["start"]).unwrap() < asked_until && at(&x["end"]).unwrap() > asked_from)
        .count();
    let marked: Vec<&Value> = shifts.iter().filter(|s| s["override"] == true).collect();
    assert_eq!(marked.len(), overlapping, "{shifts:?}");
    let swap = marked
        .iter()
        .find(|s| at(&s["start"]) == Some(start))
        .unwrap_or_else(|| panic!("no override shift from {start}: {shifts:?}"));
    assert_eq!(swap["user"]["id"], o["user"]["id"]);
    assert_eq!(ids(&swap["replaces"]), replaced);
    assert!(
        text(&result).contains("(override, replacing "),
        "{}",
        text(&result)
    );
    assert_eq!(
        shifts.len() - 1,
        shifts
            .iter()
            .filter(|s| s.get("override").is_none())
            .count()
    );
}

/// Defect 11: a maintenance window for services alone says that it stops no pages, and names
/// the alert sources that would.
#[tokio::test]
async fn maintenance_for_services_alone_offers_their_alert_sources() {
    let h = start().await;
    let client = connect(&h.mcp_url, ADMIN_KEY, Era::Legacy).await;
    let result = call(
        &client,
        "create_maintenance_window",
        json!({"summary": "DB failover test", "services": ["Checkout"],
               "start": "in 1h", "end": "in 3h"}),
    )
    .await;
    ok(&result);
    let mirror = text(&result);
    assert!(
        mirror.contains("Services alone do not stop paging"),
        "{mirror}"
    );
    // The sources of the Checkout service's team, from the sandbox.
    let services = sandbox_get(&h.sandbox_url, ADMIN_KEY, "services").await;
    let checkout = services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Checkout")
        .unwrap();
    let team = &checkout["teams"][0]["id"];
    let sources = sandbox_get(&h.sandbox_url, ADMIN_KEY, "alert-sources").await;
    for s in sources.as_array().unwrap() {
        let named = mirror.contains(&format!(
            "\"{}\" (id {})",
            s["name"].as_str().unwrap(),
            s["id"]
        ));
        let of_team = s["teams"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == *team);
        assert_eq!(named, of_team, "{s}: {mirror}");
    }
}

/// Defect 11: resolve_alerts takes an optional note, which lands on the alert's timeline.
#[tokio::test]
async fn resolve_alerts_takes_a_note() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let id = alert_ids(&h.sandbox_url, "PENDING").await[0];
    let note = "Rolled back deploy 4512";
    let result = call(
        &client,
        "resolve_alerts",
        json!({"ids": [id], "note": note}),
    )
    .await;
    assert_eq!(ok(&result)["succeeded"], 1);
    assert!(
        text(&result).contains(&format!("Note added to #{id}.")),
        "{}",
        text(&result)
    );
    let alert = sandbox_get(&h.sandbox_url, USER_KEY, &format!("alerts/{id}")).await;
    assert_eq!(alert["status"], "RESOLVED");
    let log = sandbox_get(
        &h.sandbox_url,
        USER_KEY,
        &format!("alerts/{id}/log-entries"),
    )
    .await;
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e.to_string().contains(note)),
        "{log}"
    );
}

fn search_ids(result: &rmcp::model::CallToolResult) -> Vec<(String, String)> {
    let json: Value = serde_json::from_str(&text(result)).unwrap();
    json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_owned(),
                r["title"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Defect 5: search matches plural and case variants, dates its alert and incident titles, and
/// takes a time window.
#[tokio::test]
async fn search_finds_plurals_and_case_variants_with_dates_and_a_window() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let singular = search_ids(&call(&client, "search", json!({"query": "payment"})).await);
    for variant in ["payments", "Payments", "PAYMENT"] {
        let found = search_ids(&call(&client, "search", json!({"query": variant})).await);
        assert_eq!(found, singular, "{variant}");
    }
    // The truth: the Payments service, and alerts of the last 30 days that mention "payment".
    let ids: Vec<&str> = singular.iter().map(|(id, _)| id.as_str()).collect();
    assert!(ids.contains(&"service:802"), "{ids:?}");
    let alerts = alerts_between(&h.sandbox_url, Utc::now() - Duration::days(30), Utc::now()).await;
    for a in &alerts {
        let text = format!("{} {}", a["summary"], a["details"]).to_lowercase();
        if text.contains("payment") {
            let id = format!("alert:{}", a["id"]);
            let (_, title) = singular
                .iter()
                .find(|(found, _)| *found == id)
                .unwrap_or_else(|| panic!("{id} mentions payment: {singular:?}"));
            let date = &a["reportTime"].as_str().unwrap()[..10];
            assert!(title.contains(date), "{title} carries its date {date}");
        }
    }
    // A window: only alerts reported in the last 3 days.
    let recent = search_ids(
        &call(
            &client,
            "search",
            json!({"query": "checkout", "from": "3 days ago"}),
        )
        .await,
    );
    let cutoff = Utc::now() - Duration::days(3);
    let mut seen = 0;
    for (id, _) in &recent {
        if let Some(n) = id.strip_prefix("alert:") {
            let a = sandbox_get(&h.sandbox_url, USER_KEY, &format!("alerts/{n}")).await;
            assert!(at(&a["reportTime"]).unwrap() >= cutoff, "{id}");
            seen += 1;
        }
    }
    assert!(seen > 0, "{recent:?}");
}

/// An in-process server offering only `toolsets`, with `key` as its stdio key.
async fn narrowed(
    sandbox_url: &str,
    key: &str,
    toolsets: &[&str],
) -> rmcp::service::RunningService<rmcp::service::RoleClient, ()> {
    use ilert_mcp::calls::catalogue::{Catalogue, Selection};
    use ilert_mcp::mcp::server::IlertMcp;
    use ilert_mcp::rules::toolbox::Toolbox;
    use rmcp::ServiceExt;
    use std::sync::Arc;
    let shared = Arc::new(Toolbox::new(
        fast_client(sandbox_url),
        "https://app.ilert.com",
        Some(ilert_client::ApiKey::new(key).unwrap()),
    ));
    let catalogue = Catalogue::select(&Selection {
        toolsets: Some(toolsets.iter().map(|s| (*s).to_owned()).collect()),
        ..Default::default()
    });
    let (server_io, client_io) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        if let Ok(running) = IlertMcp::new(shared, Arc::new(catalogue))
            .serve(server_io)
            .await
        {
            let _ = running.waiting().await;
        }
    });
    ().serve(client_io).await.unwrap()
}

/// Defect 10: an error points at a tool only if the caller is offered it.
#[tokio::test]
async fn errors_name_only_tools_the_caller_is_offered() {
    let h = start().await;
    let id = alert_ids(&h.sandbox_url, "PENDING").await[0];
    let args = json!({"id": id, "user": "Zed Nobody"});
    let everything = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    err(
        &call(&everything, "assign_alert", args.clone()).await,
        &["No user matches \"Zed Nobody\"", "find_users"],
    );
    let alerts_only = narrowed(&h.sandbox_url, USER_KEY, &["alerts"]).await;
    let message = err(
        &call(&alerts_only, "assign_alert", args).await,
        &["No user matches \"Zed Nobody\"", "Use an id."],
    );
    assert!(!message.contains("find_users"), "{message}");
    let raised = call(&alerts_only, "create_alert", json!({"summary": "x"})).await;
    let message = err(&raised, &["Name the alert source"]);
    assert!(!message.contains("list_alert_sources"), "{message}");
}
