//! Sources toolset: `list_alert_sources`, `list_heartbeat_monitors`, `send_event`.

use serde_json::{Value, json};

use crate::common::*;
use crate::tools_support::*;

/// Open alerts of the sandbox with `alert_key`.
async fn open_with_key(sandbox_url: &str, alert_key: &str) -> Vec<Value> {
    open_alerts(sandbox_url)
        .await
        .into_iter()
        .filter(|a| a["alertKey"] == alert_key)
        .collect()
}

#[tokio::test]
async fn list_alert_sources_with_status_policy_and_key_visibility() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let result = call(&client, "list_alert_sources", json!({})).await;
    let out = ok(&result);
    let sources = out["alert_sources"].as_array().unwrap();
    assert_eq!(
        ids(&out["alert_sources"]),
        (202_541..=202_547).collect::<Vec<i64>>()
    );
    let prometheus = &sources[0];
    assert_eq!(prometheus["name"], "Prometheus production");
    assert_eq!(prometheus["integration"], "PROMETHEUS");
    assert_eq!(prometheus["status"], "PENDING", "it has open alerts");
    assert_eq!(
        prometheus["policy"],
        json!({"id": 3102, "name": "Platform on-call"})
    );
    assert!(
        sources.iter().all(|s| s["key_visible"] == true),
        "a USER sees keys"
    );
    let heartbeats = sources.iter().find(|s| s["id"] == 202_546).unwrap();
    assert_eq!(heartbeats["status"], "ALL_RESOLVED");
    let mirror = text(&result);
    assert!(
        mirror.starts_with(
            "\"Prometheus production\" (id 202541, PROMETHEUS): PENDING · policy \"Platform on-call\""
        ),
        "{mirror}"
    );
    assert!(
        !mirror.contains("il1prom"),
        "integration keys never appear in the text"
    );

    let stakeholder = connect(&h.mcp_url, STAKEHOLDER_KEY, Era::Legacy).await;
    let result = call(&stakeholder, "list_alert_sources", json!({})).await;
    assert!(
        ok(&result)["alert_sources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["key_visible"] == false)
    );
}

#[tokio::test]
async fn list_heartbeat_monitors_healthy_and_overdue() {
    let h = start().await;
    let client = connect(&h.mcp_url, STAKEHOLDER_KEY, Era::Stateless).await;
    let result = call(&client, "list_heartbeat_monitors", json!({})).await;
    let out = ok(&result);
    assert_eq!(ids(&out["monitors"]), vec![1101, 1102, 1103]);
    let states: Vec<(&str, &str)> = out["monitors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [
            ("Nightly database backup", "HEALTHY"),
            ("Order export (hourly cron)", "OVERDUE"),
            ("Search indexer", "HEALTHY")
        ]
    );
    assert_eq!(out["monitors"][1]["interval_sec"], 3600);
    assert_eq!(out["has_more"], false);
    assert!(out.get("next_cursor").is_none());
    // The interval for people, and the owning team, as the sandbox has them.
    let rest = sandbox_get(&h.sandbox_url, USER_KEY, "heartbeat-monitors/1102").await;
    assert_eq!(rest["intervalSec"], 3600);
    let team = rest["teams"][0]["name"].as_str().unwrap();
    assert_eq!(out["monitors"][1]["teams"], json!([team]));
    assert!(
        text(&result).contains(&format!(
            "\"Order export (hourly cron)\" (id 1102): OVERDUE · expects a ping every 1h 0m · team \"{team}\""
        )),
        "{}",
        text(&result)
    );
    assert!(
        out["monitors"][1].get("updated_at").is_none(),
        "a settings change time read like a last ping"
    );
    err(
        &call(
            &client,
            "list_heartbeat_monitors",
            json!({"cursor": "page-2"}),
        )
        .await,
        &["cursor"],
    );
    err(
        &call(&client, "list_heartbeat_monitors", json!({"cursor": 2})).await,
        &["invalid type"],
    );
}

#[tokio::test]
async fn send_event_raises_deduplicates_comments_and_resolves_by_alert_key() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let key = "mcp-test/checkout-latency";
    let raise = json!({"source": "Grafana", "event_type": "ALERT", "summary": "Checkout latency above 3s",
                       "alert_key": key, "priority": "LOW", "labels": {"env": "staging"}});
    let result = call(&client, "send_event", raise.clone()).await;
    let out = ok(&result);
    // The alert it created, found through the sandbox's own REST API.
    let raised = open_with_key(&h.sandbox_url, key).await;
    assert_eq!(raised.len(), 1);
    let id = raised[0]["id"].as_i64().unwrap();
    let link = format!("https://app.ilert.com/alert/view?id={id}");
    assert_eq!(
        out,
        &json!({"accepted": true, "event_type": "ALERT", "alert_id": id, "alert_key": key,
                "alert_url": link, "response_code": "NEW_ALERT_CREATED",
                "source": {"id": 202_544, "name": "Grafana"}})
    );
    assert_eq!(
        text(&result),
        format!(
            "ilert accepted the ALERT event for alert #{id} (key {key}) (NEW_ALERT_CREATED). {link} \
             An ALERT pages the on-call of the source's escalation policy; get_alert shows who."
        )
    );
    assert_eq!(raised[0]["priority"], "LOW");
    let listed = call(&client, "list_alerts", json!({"states": ["PENDING"]})).await;
    let alerts = &ok(&listed)["alerts"];
    assert!(ids(alerts).contains(&id), "visible in list_alerts");

    // The same key again attaches to the open alert instead of raising a second one.
    let again = call(&client, "send_event", raise).await;
    assert_eq!(ok(&again)["alert_id"], id);
    assert_eq!(ok(&again)["response_code"], "EVENT_ADDED_TO_ALERT");
    assert_eq!(open_with_key(&h.sandbox_url, key).await.len(), 1);

    let comment = call(
        &client,
        "send_event",
        json!({"source": "202544", "event_type": "COMMENT", "summary": "note", "alert_key": key, "comment": "Cache warmed"}),
    )
    .await;
    ok(&comment);
    let detail = call(&client, "get_alert", json!({"id": id})).await;
    assert!(text(&detail).contains("Cache warmed"), "{}", text(&detail));

    ok(&call(
        &client,
        "send_event",
        json!({"source": "Grafana", "event_type": "RESOLVE", "summary": "ok", "alert_key": key}),
    )
    .await);
    assert!(open_with_key(&h.sandbox_url, key).await.is_empty());
    // Nothing open with the key any more: the answer says nothing changed.
    let late = call(
        &client,
        "send_event",
        json!({"source": "Grafana", "event_type": "ACCEPT", "summary": "ok", "alert_key": key}),
    )
    .await;
    assert!(ok(&late).get("alert_id").is_none());
    assert!(
        text(&late).contains("No open alert has that key, so nothing changed."),
        "{}",
        text(&late)
    );
    assert!(alert_ids(&h.sandbox_url, "RESOLVED").await.contains(&id));
}

#[tokio::test]
async fn send_event_says_what_is_missing() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Stateless).await;
    let before = open_alerts(&h.sandbox_url).await.len();
    for (args, expect) in [
        (
            json!({"source": "Grafana", "event_type": "RESOLVE", "summary": "x"}),
            "RESOLVE events need `alert_key`",
        ),
        (
            json!({"source": "Grafana", "event_type": "ACCEPT", "summary": "x", "alert_key": " "}),
            "ACCEPT events need `alert_key`",
        ),
        (
            json!({"source": "Grafana", "event_type": "COMMENT", "summary": "x", "alert_key": "k"}),
            "COMMENT events need `comment`.",
        ),
        (
            json!({"event_type": "ALERT", "summary": "x"}),
            "Give `source` (id or name) or `integration_key`.",
        ),
        (
            json!({"source": "Grafana", "event_type": "PING", "summary": "x"}),
            "unknown variant `PING`",
        ),
        (
            json!({"source": "Grafana", "event_type": "ping", "summary": "x"}),
            "unknown variant `PING`",
        ),
        (
            json!({"source": "Grafana", "summary": "x"}),
            "missing field `event_type`",
        ),
        (
            json!({"source": "Nagios", "event_type": "ALERT", "summary": "x"}),
            "No alert source matches \"Nagios\"",
        ),
        (
            json!({"source": "Grafana", "event_type": "ALERT", "summary": "x", "labels": {"env": 1}}),
            "invalid type",
        ),
        (
            json!({"source": "Grafana", "event_type": "ALERT", "summary": "x", "severity": 2}),
            "unknown field `severity`",
        ),
    ] {
        err(&call(&client, "send_event", args.clone()).await, &[expect]);
    }
    // A stakeholder changes nothing: refused by role before any integration key is looked up.
    let stakeholder = connect(&h.mcp_url, STAKEHOLDER_KEY, Era::Stateless).await;
    err(
        &call(
            &stakeholder,
            "send_event",
            json!({"source": "Grafana", "event_type": "ALERT", "summary": "x", "alert_key": "k"}),
        )
        .await,
        &["not allowed", "STAKEHOLDER"],
    );
    assert_eq!(
        open_alerts(&h.sandbox_url).await.len(),
        before,
        "nothing raised"
    );
}

#[tokio::test]
async fn send_event_with_an_unknown_integration_key_names_the_key() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let message = err(
        &call(
            &client,
            "send_event",
            json!({"integration_key": "il1-no-such-key", "event_type": "ALERT", "summary": "x"}),
        )
        .await,
        &["integration key"],
    );
    assert!(!message.contains("Check the id"), "{message}");
}
