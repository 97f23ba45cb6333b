//! On-call toolset: `who_is_on_call`, `list_schedules`, `get_schedule_shifts`,
//! `create_schedule_override`.

use std::collections::BTreeSet;

use chrono::TimeZone;
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::common::*;
use crate::tools_support::*;

fn entries(out: &Value) -> &Vec<Value> {
    out["on_call"].as_array().unwrap()
}

fn policy_levels(out: &Value) -> BTreeSet<(i64, i64)> {
    entries(out)
        .iter()
        .map(|o| {
            (
                o["policy"]["id"].as_i64().unwrap(),
                o["level"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn overrides(sandbox_url: &str, schedule: i64) -> Value {
    sandbox_get(
        sandbox_url,
        USER_KEY,
        &format!("schedules/{schedule}/overrides"),
    )
    .await
}

/// The seeded override on Checkout primary for tomorrow 08:00-16:00 Berlin, found by its start
/// among the schedule's overrides (the demo user's cover from a few hours ago is another).
async fn tomorrows_swap(sandbox_url: &str, tomorrow: chrono::NaiveDate) -> Value {
    let all = overrides(sandbox_url, 7001).await;
    let eight = Tz::Europe__Berlin
        .from_local_datetime(&tomorrow.and_hms_opt(8, 0, 0).unwrap())
        .single()
        .unwrap();
    let found: Vec<&Value> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| {
            chrono::DateTime::parse_from_rfc3339(o["start"].as_str().unwrap()).unwrap() == eight
        })
        .collect();
    assert_eq!(found.len(), 1, "one override starts tomorrow 08:00: {all}");
    found[0].clone()
}

#[tokio::test]
async fn who_is_on_call_now_per_policy_and_level() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let result = call(&client, "who_is_on_call", json!({})).await;
    let out = ok(&result);
    assert_eq!(out["timezone"], "UTC");
    assert!(out["at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        policy_levels(out),
        BTreeSet::from([
            (3101, 1),
            (3101, 2),
            (3101, 3),
            (3102, 1),
            (3102, 2),
            (3103, 1),
            (3103, 2)
        ])
    );
    for o in entries(out) {
        if o.get("schedule").is_some() {
            // A shift: when it started, when it ends, who takes over.
            for field in ["since", "until", "next"] {
                assert!(o.get(field).is_some(), "{field} missing: {o}");
            }
        } else {
            assert!(o.get("until").is_none(), "direct duties have no end: {o}");
        }
    }
    let maya: Vec<&Value> = entries(out)
        .iter()
        .filter(|o| o.get("schedule").is_none() && o["user"]["id"] == 10001)
        .collect();
    assert_eq!(
        maya.len(),
        2,
        "Maya is the last level of Checkout and Platform"
    );
    // The Storefront team is level 2 of its policy; its stakeholder member is never on call.
    let team: BTreeSet<i64> = entries(out)
        .iter()
        .filter(|o| o["policy"]["id"] == 3103 && o["level"] == 2)
        .map(|o| o["user"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(team, BTreeSet::from([10006, 10012]));

    let mirror = text(&result);
    assert!(
        mirror.starts_with(&format!(
            "On call at {} (UTC):",
            out["at"].as_str().unwrap()
        )),
        "{mirror}"
    );
    assert!(mirror.contains("- \"Checkout on-call\" L1: "), "{mirror}");
    assert!(
        mirror.contains(" via \"Checkout primary\", until "),
        "{mirror}"
    );
    assert!(
        mirror.contains("- \"Checkout on-call\" L3: \"Maya Chen\""),
        "{mirror}"
    );
    assert_eq!(mirror.lines().count(), entries(out).len() + 1);
}

#[tokio::test]
async fn who_is_on_call_at_a_local_time_in_tokyo() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Stateless).await;
    // 09:00 in Tokyo is 01:00 in Berlin: Checkout primary's APAC layer, which is only Liam.
    let result = call(
        &client,
        "who_is_on_call",
        json!({"at": "2030-01-07 09:00", "timezone": "Asia/Tokyo", "policy": "Checkout on-call"}),
    )
    .await;
    let out = ok(&result);
    assert_eq!(out["at"], "2030-01-07T09:00:00+09:00");
    assert_eq!(out["timezone"], "Asia/Tokyo");
    let first = &entries(out)[0];
    assert_eq!(first["level"], 1);
    assert_eq!(first["user"], json!({"id": 10008, "name": "Liam Walsh"}));
    assert_eq!(first["schedule"]["id"], 7001);
    assert_eq!(first["since"], "2030-01-07T08:00:00+09:00");
    assert_eq!(first["until"], "2030-01-07T16:00:00+09:00");
    let next = first["next"]["id"].as_i64().unwrap();
    assert!(
        [10002, 10005].contains(&next),
        "the Europe day shift: {first}"
    );
    // The static secondary schedule has no shifts in 2030; Maya is always level 3.
    let levels: Vec<i64> = entries(out)
        .iter()
        .map(|o| o["level"].as_i64().unwrap())
        .collect();
    assert_eq!(levels, [1, 3]);
    assert!(entries(out).iter().all(|o| o["policy"]["id"] == 3101));
    let mirror = text(&result);
    assert!(
        mirror.starts_with("On call at 2030-01-07T09:00:00+09:00 (Asia/Tokyo):"),
        "{mirror}"
    );
    assert!(
        mirror.contains(
            "\"Liam Walsh\" via \"Checkout primary\", until 2030-01-07T16:00:00+09:00, then "
        ),
        "{mirror}"
    );

    // The same moment written with an explicit offset.
    let same = call(
        &client,
        "who_is_on_call",
        json!({"at": "2030-01-07T00:00:00Z", "timezone": "Asia/Tokyo", "policy": "3101"}),
    )
    .await;
    assert_eq!(ok(&same)["on_call"], out["on_call"]);
}

#[tokio::test]
async fn who_is_on_call_by_schedule_or_user() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let result = call(
        &client,
        "who_is_on_call",
        json!({"schedule": "Checkout secondary"}),
    )
    .await;
    let out = ok(&result);
    assert_eq!(entries(out).len(), 1, "{out}");
    let o = &entries(out)[0];
    assert_eq!(
        (
            o["policy"]["id"].as_i64(),
            o["level"].as_i64(),
            o["schedule"]["id"].as_i64()
        ),
        (Some(3101), Some(2), Some(7004))
    );
    assert!(
        [10001, 10002].contains(&o["user"]["id"].as_i64().unwrap()),
        "{o}"
    );

    let result = call(
        &client,
        "who_is_on_call",
        json!({"user": "maya.chen@example.com"}),
    )
    .await;
    let out = ok(&result);
    assert!(
        entries(out).iter().all(|o| o["user"]["id"] == 10001),
        "{out}"
    );
    let levels = policy_levels(out);
    assert!(
        levels.contains(&(3101, 3)) && levels.contains(&(3102, 2)),
        "{levels:?}"
    );

    // Stakeholders are never on call: an empty answer, said plainly, not an error.
    let result = call(&client, "who_is_on_call", json!({"user": "Sam Rivera"})).await;
    assert_eq!(ok(&result)["on_call"], json!([]));
    assert!(
        text(&result).starts_with("Nobody is on call at "),
        "{}",
        text(&result)
    );
    assert!(
        text(&result).contains(
            "(UTC) for that selection.\nNames: user \"Sam Rivera\" is \"Sam Rivera\" (id 10004)."
        ),
        "{}",
        text(&result)
    );
}

#[tokio::test]
async fn who_is_on_call_by_team() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let result = call(&client, "who_is_on_call", json!({"team": "Platform"})).await;
    let out = ok(&result);
    assert_eq!(policy_levels(out), BTreeSet::from([(3102, 1), (3102, 2)]));
    // A team without policies is an answer: nobody is on call for it.
    let none = call(&client, "who_is_on_call", json!({"team": "customer care"})).await;
    assert_eq!(ok(&none)["on_call"], json!([]));
    assert!(
        text(&none).starts_with("Team \"Customer Care\" (id 504) has no escalation policies"),
        "{}",
        text(&none)
    );
}

/// A team's policies are found under its team context, however many policies the account has:
/// here the team's only policy comes after 50 others, past the first page of the policy list.
#[tokio::test]
async fn who_is_on_call_by_team_finds_policies_past_the_first_page() {
    let h = start().await;
    let http = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        http.post(format!("{}/{path}", h.sandbox_url))
            .bearer_auth(ADMIN_KEY)
            .json(&body)
            .send()
    };
    let rule = |user: i64| json!([{"escalationTimeout": 5, "users": [{"id": user}]}]);
    for i in 0..50 {
        let r = post(
            "escalation-policies",
            json!({"name": format!("Filler {i}"), "escalationRules": rule(10002),
                   "teams": [{"id": 502}]}),
        )
        .await
        .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }
    let teams = sandbox_get(&h.sandbox_url, ADMIN_KEY, "teams").await;
    let care = teams
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Customer Care")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = post(
        "escalation-policies",
        json!({"name": "Customer Care on-call", "escalationRules": rule(10003),
               "teams": [{"id": care}]}),
    )
    .await
    .unwrap();
    assert!(r.status().is_success());
    let policy = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    // Who is on call for that policy, asked of the sandbox directly.
    let expected: BTreeSet<i64> = sandbox_get(
        &h.sandbox_url,
        ADMIN_KEY,
        &format!("on-calls?policies={policy}&expand=user"),
    )
    .await
    .as_array()
    .unwrap()
    .iter()
    .map(|o| o["user"]["id"].as_i64().unwrap())
    .collect();
    assert_eq!(expected, BTreeSet::from([10003]));

    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let result = call(&client, "who_is_on_call", json!({"team": "Customer Care"})).await;
    let out = ok(&result);
    assert_eq!(policy_levels(out), BTreeSet::from([(policy, 1)]));
    let users: BTreeSet<i64> = entries(out)
        .iter()
        .map(|o| o["user"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(users, expected);
}

#[tokio::test]
async fn who_is_on_call_explains_bad_arguments() {
    let h = start().await;
    let client = connect(&h.mcp_url, STAKEHOLDER_KEY, Era::Stateless).await;
    for (args, expect) in [
        (
            json!({"timezone": "Atlantis"}),
            "`timezone` \"Atlantis\" is not an IANA time zone",
        ),
        (
            json!({"at": "next blursday"}),
            "`at` \"next blursday\" is not a time",
        ),
        (
            json!({"at": "2030-03-31 02:30", "timezone": "Europe/Berlin"}),
            "daylight-saving",
        ),
        (json!({"at": 1_700_000_000}), "invalid type"),
        (
            json!({"policy": "Payments on-call"}),
            "No escalation policy matches \"Payments on-call\"",
        ),
        (json!({"policy": "on-call"}), "matches 3 escalation"),
        (
            json!({"schedule": "Checkout"}),
            "\"Checkout primary\" (id 7001",
        ),
        (json!({"user": "li"}), "matches 2 users"),
        (json!({"when": "now"}), "unknown field `when`"),
    ] {
        err(
            &call(&client, "who_is_on_call", args.clone()).await,
            &[expect],
        );
    }
}

#[tokio::test]
async fn list_schedules_lists_every_schedule_with_its_zone() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let result = call(&client, "list_schedules", json!({})).await;
    let out = ok(&result);
    assert_eq!(ids(&out["schedules"]), vec![7001, 7002, 7003, 7004]);
    let kinds: Vec<(&str, &str)> = out["schedules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["kind"].as_str().unwrap(),
                s["schedule_timezone"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("RECURRING", "Europe/Berlin"),
            ("RECURRING", "UTC"),
            ("RECURRING", "America/Los_Angeles"),
            ("STATIC", "Europe/Berlin")
        ]
    );
    let mirror = text(&result);
    assert!(
        mirror.contains("\"Checkout primary\" (id 7001, Europe/Berlin): "),
        "{mirror}"
    );
    assert!(
        mirror.contains("\"Checkout secondary\" (id 7004, Europe/Berlin): "),
        "{mirror}"
    );
    err(
        &call(&client, "list_schedules", json!({"timezone": "PST"})).await,
        &["IANA"],
    );
}

#[tokio::test]
async fn list_schedules_shows_who_is_on_call_now_and_next() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let result = call(
        &client,
        "list_schedules",
        json!({"timezone": "Europe/Berlin"}),
    )
    .await;
    let out = ok(&result);
    // Every seeded schedule covers the whole day, so someone is always on call.
    for s in out["schedules"].as_array().unwrap() {
        assert!(s["current"]["user"]["id"].is_i64(), "{s}");
        assert!(s["next"]["user"]["id"].is_i64(), "{s}");
    }
    assert!(
        !text(&result).contains("nobody on call now"),
        "{}",
        text(&result)
    );
}

#[tokio::test]
async fn get_schedule_shifts_applies_the_seeded_override() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Stateless).await;
    let tomorrow = date_in(Tz::Europe__Berlin, 1);
    let swap = tomorrows_swap(&h.sandbox_url, tomorrow).await;
    let standing_in = swap["user"]["id"].as_i64().unwrap();

    let result = call(
        &client,
        "get_schedule_shifts",
        json!({"schedule": "Checkout primary", "from": format!("{tomorrow} 00:00"), "until": format!("{tomorrow} 23:59"), "timezone": "Europe/Berlin"}),
    )
    .await;
    let out = ok(&result);
    assert_eq!(
        out["schedule"],
        json!({"id": 7001, "name": "Checkout primary"})
    );
    assert_eq!(out["timezone"], "Europe/Berlin");
    let shifts = out["shifts"].as_array().unwrap();
    let day = shifts
        .iter()
        .find(|s| {
            s["start"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{tomorrow}T08:00:00+0"))
        })
        .unwrap_or_else(|| panic!("no 08:00 shift tomorrow: {shifts:?}"));
    assert_eq!(
        day["user"]["id"], standing_in,
        "the override replaces the rotation"
    );
    assert!(
        day["end"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{tomorrow}T16:00:00+0"))
    );
    let night = shifts
        .iter()
        .find(|s| {
            s["start"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{tomorrow}T00:00:00+0"))
        })
        .unwrap();
    assert_eq!(night["user"]["name"], "Liam Walsh");
    let mirror = text(&result);
    assert!(
        mirror.starts_with(&format!(
            "\"Checkout primary\" (id 7001), {tomorrow}T00:00:00+0"
        )),
        "{mirror}"
    );
    assert!(mirror.contains("(Europe/Berlin):"), "{mirror}");
    assert_eq!(mirror.lines().count(), shifts.len() + 1);
}

#[tokio::test]
async fn get_schedule_shifts_defaults_to_a_week_and_refuses_bad_windows() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let result = call(&client, "get_schedule_shifts", json!({"schedule": "7004"})).await;
    let out = ok(&result);
    assert_eq!(out["schedule"]["name"], "Checkout secondary");
    let shifts = out["shifts"].as_array().unwrap();
    assert!(
        (1..=2).contains(&shifts.len()),
        "weekly shifts in a 7-day window: {shifts:?}"
    );
    assert!(
        shifts
            .iter()
            .all(|s| [10001, 10002].contains(&s["user"]["id"].as_i64().unwrap()))
    );

    let empty = call(
        &client,
        "get_schedule_shifts",
        json!({"schedule": "7004", "from": "2031-01-01", "until": "2031-01-08"}),
    )
    .await;
    assert_eq!(ok(&empty)["shifts"], json!([]));
    assert!(
        text(&empty).ends_with("No shifts: nobody is scheduled in this window."),
        "{}",
        text(&empty)
    );

    for (args, expect) in [
        (
            json!({"schedule": "7001", "from": "2030-01-02", "until": "2030-01-01"}),
            "`until` must be after `from` and at most 62 days later.",
        ),
        (
            json!({"schedule": "7001", "from": "2030-01-01", "until": "2030-04-01"}),
            "at most 62 days",
        ),
        (
            json!({"schedule": "7001", "from": "soon"}),
            "`from` \"soon\" is not a time",
        ),
        (
            json!({"schedule": "7001", "until": "2030-01-01T25:00:00Z"}),
            "`until`",
        ),
        (
            json!({"schedule": "Night shift"}),
            "No schedule matches \"Night shift\"",
        ),
        (json!({"schedule": "Checkout"}), "matches 2 schedules"),
        (
            json!({"schedule": "999999"}),
            "Schedule 999999 was not found",
        ),
        (json!({}), "missing field `schedule`"),
        (
            json!({"schedule": "7001", "days": 3}),
            "unknown field `days`",
        ),
    ] {
        err(
            &call(&client, "get_schedule_shifts", args.clone()).await,
            &[expect],
        );
    }
}

#[tokio::test]
async fn create_schedule_override_puts_someone_on_call() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let day = date_in(Tz::UTC, 2);
    let result = call(
        &client,
        "create_schedule_override",
        json!({"schedule": "Storefront weekly", "user": "Maya Chen", "start": format!("{day} 10:00"), "end": format!("{day} 12:00")}),
    )
    .await;
    let out = ok(&result);
    assert_eq!(
        out["schedule"],
        json!({"id": 7003, "name": "Storefront weekly"})
    );
    assert_eq!(out["user"], json!({"id": 10001, "name": "Maya Chen"}));
    assert_eq!(out["start"], format!("{day}T10:00:00Z"));
    assert_eq!(out["end"], format!("{day}T12:00:00Z"));
    assert_eq!(
        text(&result),
        format!(
            "\"Maya Chen\" (id 10001) is on call for \"Storefront weekly\" (id 7003) from {day}T10:00:00Z to {day}T12:00:00Z."
        )
    );

    let shifts = call(
        &client,
        "get_schedule_shifts",
        json!({"schedule": "Storefront weekly", "from": format!("{day} 10:30"), "until": format!("{day} 11:30")}),
    )
    .await;
    let shifts = ok(&shifts)["shifts"].as_array().unwrap().clone();
    assert_eq!(shifts.len(), 1, "{shifts:?}");
    assert_eq!(shifts[0]["user"]["id"], 10001);
    assert_eq!(shifts[0]["start"], format!("{day}T10:00:00Z"));

    // Times in another zone are read and shown in it.
    let result = call(
        &client,
        "create_schedule_override",
        json!({"schedule": "7003", "user": "10012", "start": format!("{day} 23:00"), "end": format!("{day} 23:30"), "timezone": "Asia/Tokyo"}),
    )
    .await;
    let out = ok(&result);
    assert_eq!(out["start"], format!("{day}T23:00:00+09:00"));
    assert_eq!(
        overrides(&h.sandbox_url, 7003)
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn create_schedule_override_refuses_the_past_overlaps_and_read_only_roles() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Stateless).await;
    let before = overrides(&h.sandbox_url, 7001).await;
    let tomorrow = date_in(Tz::Europe__Berlin, 1);
    // Three days out: clear of the seeded override, which is at most two UTC days away.
    let day = date_in(Tz::UTC, 3);
    let (start, end) = (format!("{day} 10:00"), format!("{day} 11:00"));

    err(
        &call(&client, "create_schedule_override", json!({"schedule": "Checkout primary", "user": "Ana Souza", "start": "2020-01-01 10:00", "end": "2020-01-01 12:00"})).await,
        &["would start in the past (2020-01-01T10:00:00Z)", "only cover the future"],
    );
    // Tomorrow 08:00-16:00 Berlin already has the seeded override.
    let standing_in = tomorrows_swap(&h.sandbox_url, tomorrow).await["user"]["firstName"]
        .as_str()
        .unwrap()
        .to_owned();
    err(
        &call(
            &client,
            "create_schedule_override",
            json!({"schedule": "Checkout primary", "user": "Ana Souza", "start": format!("{tomorrow} 09:00"), "end": format!("{tomorrow} 10:00"), "timezone": "Europe/Berlin"}),
        )
        .await,
        &["Checkout primary already has an override from", &format!("{tomorrow}T08:00:00+0"), "may not overlap", &standing_in],
    );
    for (args, expect) in [
        (
            json!({"schedule": "7001", "user": "Ana Souza", "start": end, "end": start}),
            "`end` must be after `start`.",
        ),
        (
            json!({"schedule": "7001", "user": "Ana Souza", "start": "in an hour", "end": end}),
            "`start` \"in an hour\" is not a time",
        ),
        (
            json!({"schedule": "7001", "user": "Zed", "start": start, "end": end}),
            "No user matches \"Zed\"",
        ),
        (
            json!({"schedule": "Checkout", "user": "Ana Souza", "start": start, "end": end}),
            "matches 2 schedules",
        ),
        (
            json!({"schedule": "7001", "user": "Ana Souza", "start": start}),
            "missing field `end`",
        ),
        (
            json!({"schedule": "7001", "user": "Ana Souza", "start": start, "end": end, "reason": "x"}),
            "unknown field `reason`",
        ),
    ] {
        err(
            &call(&client, "create_schedule_override", args.clone()).await,
            &[expect],
        );
    }

    // Responders may work alerts but not change schedules; stakeholders only read.
    for (key, role) in [
        (RESPONDER_KEY, "RESPONDER"),
        (STAKEHOLDER_KEY, "STAKEHOLDER"),
    ] {
        let other = connect(&h.mcp_url, key, Era::Stateless).await;
        err(
            &call(
                &other,
                "create_schedule_override",
                json!({"schedule": "7001", "user": "Ana Souza", "start": start, "end": end}),
            )
            .await,
            &["not allowed", role],
        );
    }
    assert_eq!(
        overrides(&h.sandbox_url, 7001).await,
        before,
        "state unchanged"
    );
}

/// (policy, level, user) of `/on-calls` at 2030-01-07 09:00 UTC for the policies the team owning
/// `service` owns, read from the sandbox: the service's teams, then the policies listing one of
/// them. A fixed time, so no handover between this read and the tool's can change the answer.
async fn on_call_for_service(sandbox_url: &str, service: i64) -> BTreeSet<(i64, i64, i64)> {
    let s = sandbox_get(sandbox_url, USER_KEY, &format!("services/{service}")).await;
    let teams: Vec<i64> = ids(&s["teams"]);
    assert!(
        !teams.is_empty(),
        "the seed gives service {service} an owner"
    );
    let policies = sandbox_get(sandbox_url, USER_KEY, "escalation-policies?max-results=50").await;
    let owned: Vec<i64> = policies
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| ids(&p["teams"]).iter().any(|t| teams.contains(t)))
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert!(!owned.is_empty());
    let query: Vec<String> = owned.iter().map(|p| format!("policies={p}")).collect();
    let on_calls = sandbox_get(
        sandbox_url,
        USER_KEY,
        &format!(
            "on-calls?{}&from=2030-01-07T09:00:00.000Z&until=2030-01-07T09:01:00.000Z&max-results=250",
            query.join("&")
        ),
    )
    .await;
    on_calls
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["escalationPolicy"]["id"].as_i64().unwrap(),
                o["escalationLevel"].as_i64().unwrap(),
                o["user"]["id"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn triples(out: &Value) -> BTreeSet<(i64, i64, i64)> {
    entries(out)
        .iter()
        .map(|o| {
            (
                o["policy"]["id"].as_i64().unwrap(),
                o["level"].as_i64().unwrap(),
                o["user"]["id"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Issue 24 §3.1: "who is on call for Search" goes through the team owning the Search service,
/// whether the model passes it as `service` or as `team`.
#[tokio::test]
async fn who_is_on_call_for_a_service_asks_its_owning_team() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Stateless).await;
    let want = on_call_for_service(&h.sandbox_url, 804).await;
    let owner = &sandbox_get(&h.sandbox_url, USER_KEY, "services/804").await["teams"][0];
    for (key, name) in [("service", "Search"), ("team", "search")] {
        let args = json!({key: name, "at": "2030-01-07T09:00:00Z"});
        let result = call(&client, "who_is_on_call", args.clone()).await;
        let out = ok(&result);
        assert_eq!(triples(out), want, "{args}");
        let mirror = text(&result);
        assert!(
            mirror.contains(&format!(
                "service \"{name}\" is \"Search\" (id 804), owned by team \"{}\" (id {})",
                owner["name"].as_str().unwrap(),
                owner["id"]
            )),
            "{mirror}"
        );
    }
    // A name that is neither a team nor a service is still the team's error.
    let result = call(&client, "who_is_on_call", json!({"team": "Nonesuch"})).await;
    err(&result, &["No team matches"]);
}

/// Issue 24 §3.2: `timezone` takes cities as people spell them, accents or not, and an unknown
/// zone's error names the nearest zones. Who is on call is checked against `/on-calls` at the
/// same instant, computed here with chrono-tz.
#[tokio::test]
async fn time_zones_accept_city_spellings() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Stateless).await;
    let local = chrono::NaiveDate::from_ymd_opt(2030, 1, 7)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    for (city, tz) in [
        ("São Paulo", Tz::America__Sao_Paulo),
        ("Zürich", Tz::Europe__Zurich),
        ("Bogotá", Tz::America__Bogota),
        ("Bengaluru", Tz::Asia__Kolkata),
        ("Bangalore", Tz::Asia__Kolkata),
        ("Mexico City", Tz::America__Mexico_City),
        ("Ho Chi Minh", Tz::Asia__Ho_Chi_Minh),
        ("Kyiv", Tz::Europe__Kyiv),
        ("Kiev", Tz::Europe__Kyiv),
    ] {
        let at = tz.from_local_datetime(&local).single().unwrap();
        let utc = at.with_timezone(&chrono::Utc);
        let wire =
            |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%S.000Z").to_string();
        let rest = sandbox_get(
            &h.sandbox_url,
            USER_KEY,
            &format!(
                "on-calls?policies=3101&from={}&until={}",
                wire(utc),
                wire(utc + chrono::Duration::minutes(1))
            ),
        )
        .await;
        let want: BTreeSet<(i64, i64)> = rest
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["escalationLevel"].as_i64().unwrap(),
                    o["user"]["id"].as_i64().unwrap(),
                )
            })
            .collect();
        let result = call(
            &client,
            "who_is_on_call",
            json!({"at": "2030-01-07 09:00", "timezone": city, "policy": "3101"}),
        )
        .await;
        let out = ok(&result);
        assert_eq!(out["timezone"], tz.name(), "{city}");
        assert_eq!(
            out["at"],
            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "{city}"
        );
        let got: BTreeSet<(i64, i64)> = entries(out)
            .iter()
            .map(|o| {
                (
                    o["level"].as_i64().unwrap(),
                    o["user"]["id"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(got, want, "{city}");
    }
    let result = call(&client, "who_is_on_call", json!({"timezone": "Zurik"})).await;
    err(&result, &["Zurik", "nearest", "Europe/Zurich"]);
}
