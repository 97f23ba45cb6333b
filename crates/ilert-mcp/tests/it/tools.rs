//! Tool behaviour against the sandbox: success, not found, forbidden role, bad arguments, bad
//! key, rate limit and ilert down.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn list_alerts_defaults_to_open_alerts_newest_first() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let result = call(&client, "list_alerts", json!({})).await;
    assert!(!is_error(&result), "{}", text(&result));
    let alerts = structured(&result)["alerts"].as_array().unwrap().clone();
    assert!(!alerts.is_empty());
    let open = alert_ids(&h.sandbox_url, "PENDING").await.len()
        + alert_ids(&h.sandbox_url, "ACCEPTED").await.len();
    assert_eq!(alerts.len(), open.min(25));
    for alert in &alerts {
        assert!(
            ["PENDING", "ACCEPTED"].contains(&alert["status"].as_str().unwrap()),
            "{alert}"
        );
        assert!(
            alert.get("url").is_none(),
            "lists leave the link to get_alert: {alert}"
        );
        assert!(
            alert["policy"]["id"].is_i64(),
            "rows carry the policy: {alert}"
        );
    }
    let times: Vec<&str> = alerts
        .iter()
        .map(|a| a["reported_at"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "newest first");
    // The text mirror names every alert the structured answer holds.
    let mirror = text(&result);
    for alert in &alerts {
        assert!(mirror.contains(&format!("#{}", alert["id"])), "{mirror}");
    }
}

#[tokio::test]
async fn list_alerts_filters_and_pages_without_silent_truncation() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Stateless).await;
    let resolved = alert_ids(&h.sandbox_url, "RESOLVED").await;
    assert!(resolved.len() >= 2, "the seed needs resolved alerts");
    let first = call(
        &client,
        "list_alerts",
        json!({"states": ["RESOLVED"], "limit": 1}),
    )
    .await;
    let page = structured(&first);
    assert_eq!(page["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(page["has_more"], true);
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    assert!(text(&first).contains(&cursor));
    // The count at the top is this page's, and says so: more than one alert is resolved.
    assert!(
        text(&first).starts_with("1 RESOLVED alert(s) on this page (more match: see the end)"),
        "{}",
        text(&first)
    );
    let second = call(
        &client,
        "list_alerts",
        json!({"states": ["RESOLVED"], "limit": 1, "cursor": cursor}),
    )
    .await;
    let (a, b) = (
        &page["alerts"][0]["id"],
        &structured(&second)["alerts"][0]["id"],
    );
    assert_ne!(a, b);
    // Walking every page finds every resolved alert exactly once.
    let mut ids: Vec<i64> = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let mut args = json!({"states": ["RESOLVED"], "limit": 100});
        if let Some(c) = &cursor {
            args["cursor"] = json!(c);
        }
        let page = call(&client, "list_alerts", args).await;
        let page = structured(&page);
        ids.extend(
            page["alerts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_i64().unwrap()),
        );
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if page["has_more"] == false {
            break;
        }
    }
    assert!(cursor.is_none(), "the walk reached the last page");
    ids.sort_unstable();
    let mut expected = resolved.clone();
    expected.sort_unstable();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn get_alert_returns_detail_and_not_found_is_a_tool_error() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let id = alert_ids(&h.sandbox_url, "PENDING").await[0];
    let result = call(&client, "get_alert", json!({"id": id})).await;
    assert!(!is_error(&result), "{}", text(&result));
    let alert = structured(&result);
    assert_eq!(alert["id"], id);
    assert_eq!(alert["status"], "PENDING");
    assert_eq!(
        alert["url"],
        format!("https://app.ilert.com/alert/view?id={id}")
    );
    assert!(alert["summary"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(alert["policy"]["id"].is_i64(), "{alert}");

    let missing = call(&client, "get_alert", json!({"id": 999_999_999})).await;
    assert!(is_error(&missing));
    assert!(
        text(&missing).contains("alert 999999999 was not found")
            || text(&missing).contains("Alert 999999999 was not found"),
        "{}",
        text(&missing)
    );
}

#[tokio::test]
async fn get_alert_says_what_each_action_is_and_whether_it_ran() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Stateless).await;
    let rest =
        crate::tools_support::sandbox_get(&h.sandbox_url, USER_KEY, "alerts/4722/actions").await;
    let actions = rest.as_array().unwrap();
    assert!(!actions.is_empty(), "the seed gives 4722 actions");
    let result = call(&client, "get_alert", json!({"id": 4722})).await;
    let said = text(&result);
    for action in actions {
        let runs = action["history"].as_array().map_or(0, Vec::len);
        let ran = match runs {
            0 => "not run yet".to_owned(),
            1 => "ran once".to_owned(),
            n => format!("ran {n} times"),
        };
        let want = format!(
            "\"{}\" ({}, {ran})",
            action["name"].as_str().unwrap(),
            action["type"].as_str().unwrap()
        );
        assert!(said.contains(&want), "{want:?} in {said}");
    }
}

#[tokio::test]
async fn accept_then_resolve_changes_state_and_reports_per_alert() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Stateless).await;
    let pending = alert_ids(&h.sandbox_url, "PENDING").await;
    let (a, b) = (pending[0], pending[1]);
    let result = call(
        &client,
        "accept_alerts",
        json!({"ids": [a, b, 999_999_999]}),
    )
    .await;
    assert!(
        !is_error(&result),
        "partial success is not an error: {}",
        text(&result)
    );
    let out = structured(&result);
    assert_eq!(
        (out["succeeded"].as_u64(), out["failed"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(out["results"][0]["id"], a);
    assert_eq!(out["results"][0]["status"], "ACCEPTED");
    assert_eq!(out["results"][2]["ok"], false);
    assert!(
        out["results"][2]["error"]
            .as_str()
            .unwrap()
            .contains("not found")
    );
    assert!(alert_ids(&h.sandbox_url, "ACCEPTED").await.contains(&a));

    let resolved = call(&client, "resolve_alerts", json!({"ids": [a]})).await;
    assert!(!is_error(&resolved), "{}", text(&resolved));
    assert_eq!(structured(&resolved)["results"][0]["status"], "RESOLVED");
    assert!(alert_ids(&h.sandbox_url, "RESOLVED").await.contains(&a));
}

#[tokio::test]
async fn stakeholder_cannot_accept_and_is_told_why() {
    let h = start().await;
    let client = connect(&h.mcp_url, STAKEHOLDER_KEY, Era::Legacy).await;
    let id = alert_ids(&h.sandbox_url, "PENDING").await[0];
    let result = call(&client, "accept_alerts", json!({"ids": [id]})).await;
    assert!(
        is_error(&result),
        "nothing succeeded, so the result is an error"
    );
    assert!(text(&result).contains("not allowed"), "{}", text(&result));
    assert!(
        alert_ids(&h.sandbox_url, "PENDING").await.contains(&id),
        "state unchanged"
    );
}

#[tokio::test]
async fn bad_arguments_are_tool_errors_the_model_can_fix() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    for (tool, args, expect) in [
        ("get_alert", json!({"id": "abc"}), "not a numeric ilert id"),
        ("get_alert", json!({}), "missing field `id`"),
        (
            "list_alerts",
            json!({"states": ["FIRING"]}),
            "unknown variant",
        ),
        ("list_alerts", json!({"limit": 0}), "between 1 and 100"),
        ("list_alerts", json!({"from": "soonish"}), "ISO-8601"),
        (
            "list_alerts",
            json!({"state": ["PENDING"]}),
            "unknown field `state`",
        ),
        ("list_alerts", json!({"cursor": "zzz"}), "cursor"),
        ("accept_alerts", json!({"ids": []}), "at least one"),
        (
            "accept_alerts",
            json!({"ids": (1..=51).collect::<Vec<i64>>()}),
            "at most 50",
        ),
    ] {
        let result = call(&client, tool, args.clone()).await;
        assert!(is_error(&result), "{tool} {args}");
        assert!(
            text(&result).contains(expect),
            "{tool} {args}: {}",
            text(&result)
        );
    }
    // Lenient forms models send are accepted.
    let id = alert_ids(&h.sandbox_url, "PENDING").await[0];
    let result = call(&client, "get_alert", json!({"id": id.to_string()})).await;
    assert!(!is_error(&result), "{}", text(&result));
    let result = call(
        &client,
        "list_alerts",
        json!({"states": ["pending"], "limit": "3"}),
    )
    .await;
    assert!(
        is_error(&result),
        "a string limit is refused with a reason: {}",
        text(&result)
    );
}

#[tokio::test]
async fn a_key_ilert_rejects_gives_an_actionable_tool_error() {
    let h = start().await;
    let client = in_process(&h.sandbox_url, "not-a-real-key-123").await;
    let result = call(&client, "get_current_user", json!({})).await;
    assert!(is_error(&result));
    let message = text(&result);
    assert!(message.contains("Authorization: Bearer"), "{message}");
    assert!(message.contains("active"), "{message}");
    assert!(
        !message.contains("not-a-real-key-123"),
        "the key never appears in output"
    );
}

#[tokio::test]
async fn rate_limited_upstream_is_reported_not_hidden() {
    let h = start_with(Some(2), Default::default()).await;
    let client = in_process(&h.sandbox_url, USER_KEY).await;
    let mut last = None;
    for _ in 0..4 {
        last = Some(call(&client, "get_current_user", json!({})).await);
    }
    let result = last.unwrap();
    assert!(is_error(&result));
    assert!(text(&result).contains("rate limit"), "{}", text(&result));
}

#[tokio::test]
async fn ilert_down_is_a_clear_tool_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = in_process(&format!("http://127.0.0.1:{port}/api"), USER_KEY).await;
    let started = std::time::Instant::now();
    let result = call(&client, "list_alerts", json!({})).await;
    assert!(is_error(&result));
    assert!(
        text(&result).contains("could not reach ilert"),
        "{}",
        text(&result)
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[tokio::test]
async fn current_user_is_the_keys_owner() {
    let h = start().await;
    for (key, name, role) in [
        (USER_KEY, "Jonas Weber", "USER"),
        (STAKEHOLDER_KEY, "Sam Rivera", "STAKEHOLDER"),
    ] {
        let client = connect(&h.mcp_url, key, Era::Stateless).await;
        let result = call(&client, "get_current_user", json!({})).await;
        assert_eq!(structured(&result)["name"], name);
        assert_eq!(structured(&result)["role"], role);
    }
}

/// get_alert says whether anyone was reached (issue 24 §2): per notification, who, which channel
/// and whether it arrived, as the sandbox's `/alerts/{id}/notifications` lists them; an alert
/// none of whose notifications arrived says so on the line after the alert's own.
#[tokio::test]
async fn get_alert_says_whether_anyone_was_reached() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let mut seen_nobody = false;
    let mut seen_reached = false;
    for id in alert_ids(&h.sandbox_url, "PENDING").await {
        let truth = crate::tools_support::sandbox_get(
            &h.sandbox_url,
            USER_KEY,
            &format!("alerts/{id}/notifications"),
        )
        .await;
        let truth = truth.as_array().unwrap();
        let result = call(&client, "get_alert", json!({"id": id})).await;
        let got = structured(&result);
        let listed: Vec<(i64, String, String)> = got["notifications"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|n| {
                        (
                            n["user"]["id"].as_i64().unwrap(),
                            n["channel"].as_str().unwrap().to_owned(),
                            n["status"].as_str().unwrap().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let want: Vec<(i64, String, String)> = truth
            .iter()
            .map(|n| {
                (
                    n["user"]["id"].as_i64().unwrap(),
                    n["method"].as_str().unwrap().to_owned(),
                    n["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(listed, want, "alert {id}: notifications");
        let second = text(&result).lines().nth(1).unwrap_or_default().to_owned();
        let arrived: Vec<String> = truth
            .iter()
            .filter(|n| n["status"] == "SUCCESS")
            .map(|n| {
                format!(
                    "{} {}",
                    n["user"]["firstname"].as_str().unwrap(),
                    n["user"]["lastname"].as_str().unwrap()
                )
            })
            .collect();
        if !truth.is_empty() && arrived.is_empty() {
            seen_nobody = true;
            assert!(
                second.starts_with("Nobody was reached"),
                "alert {id}: {second}"
            );
        } else if !arrived.is_empty() {
            seen_reached = true;
            assert!(second.starts_with("Reached: "), "alert {id}: {second}");
            for name in &arrived {
                assert!(
                    second.contains(name.as_str()),
                    "alert {id}: {name} missing: {second}"
                );
            }
        }
        for failed in truth.iter().filter(|n| n["status"] == "ERROR") {
            let why = failed["errorMessage"].as_str().unwrap();
            assert!(
                second.contains(why),
                "alert {id}: failure {why:?} missing: {second}"
            );
        }
    }
    assert!(seen_nobody && seen_reached, "the seed has both cases");
}

/// ilert requests the sandbox counted from ilert-mcp so far.
async fn upstream(sandbox_url: &str) -> u64 {
    let base = sandbox_url.trim_end_matches('/').trim_end_matches("/api");
    let counts: serde_json::Value = reqwest::get(format!("{base}/_test/requests"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    counts["byUserAgent"]["ilert-mcp"].as_u64().unwrap_or(0)
}

/// `find_similar_alerts` keeps to the budget its description states (10 ilert requests), and asking
/// again about the same alert reuses what was read: the list and the resolved alerts' timelines.
#[tokio::test]
async fn similar_alerts_keeps_its_budget_and_remembers() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let open = crate::tools_support::open_alerts(&h.sandbox_url).await;
    let disk = open
        .iter()
        .find(|a| a["alertKey"] == "disk-usage/logs-01")
        .expect("the seed's open disk alert");
    let id = disk["id"].as_i64().unwrap();
    let before = upstream(&h.sandbox_url).await;
    let result = call(&client, "find_similar_alerts", json!({"id": id})).await;
    assert!(!is_error(&result), "{}", text(&result));
    let first = upstream(&h.sandbox_url).await - before;
    assert!(first <= 10, "first call: {first} ilert requests");
    let again = call(&client, "find_similar_alerts", json!({"id": id})).await;
    let second = upstream(&h.sandbox_url).await - before - first;
    assert_eq!(text(&again), text(&result), "the same answer");
    assert_eq!(second, 1, "only the alert itself is read again");
    // Another caller's key shares nothing.
    let other = connect(&h.mcp_url, "demo-key-admin", Era::Legacy).await;
    call(&other, "find_similar_alerts", json!({"id": id})).await;
    let third = upstream(&h.sandbox_url).await - before - first - second;
    // (Its first request also checks the new key once, hence at least as many.)
    assert!(
        third >= first,
        "a second caller reads everything itself: {third} < {first}"
    );
    // A bad window and an unknown alert are clear errors.
    let bad = call(
        &client,
        "find_similar_alerts",
        json!({"id": id, "days": 400}),
    )
    .await;
    assert!(
        is_error(&bad) && text(&bad).contains("`days`"),
        "{}",
        text(&bad)
    );
    let unknown = call(&client, "find_similar_alerts", json!({"id": 999_999})).await;
    assert!(is_error(&unknown), "{}", text(&unknown));
}
