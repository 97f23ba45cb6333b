//! `POST /api/events`: no API key, 202 with `{alertKey, alertUrl, responseCode}`, `alertKey` de-duplication, ACCEPT,
//! RESOLVE and COMMENT on the open alert, routing keys, maintenance, errors and the budget.

use serde_json::{Value, json};

use crate::common::*;

const KEY: &str = "il1dd7f2b19c4e08a36d51c";

fn event(kind: &str, alert_key: &str) -> Value {
    json!({"integrationKey": KEY, "eventType": kind, "summary": format!("{kind} {alert_key}"), "alertKey": alert_key})
}

async fn count(s: &Server) -> i64 {
    s.ok("/api/alerts/count", ADMIN).await["count"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn events_with_the_same_key_attach_to_the_open_alert() {
    let s = start().await;
    let before = count(&s).await;
    let r = s.event(&json!({"integrationKey": KEY, "eventType": "ALERT", "summary": "Checkout 502s", "details": "**markdown**",
        "alertKey": "lb/502", "priority": "HIGH", "severity": 2, "labels": {"env": "prod"}, "customDetails": {"pods": 3},
        "links": [{"href": "https://example.com", "text": "Dash", "extra": 1}], "images": [{"src": "https://example.com/a.png"}]})).await;
    assert_eq!(r.status, 202);
    assert_eq!(count(&s).await, before + 1);
    let a = s
        .ok(
            "/api/alerts?max-results=1&include=nextEscalationUser",
            ADMIN,
        )
        .await[0]
        .clone();
    let id = a["id"].as_i64().unwrap();
    // The answer names the alert, as ilert's Go client reads it.
    assert_eq!(
        r.body,
        json!({"alertKey": "lb/502", "alertUrl": format!("{}/api/alerts/{id}", s.base),
               "responseCode": "NEW_ALERT_CREATED"})
    );
    assert_eq!(a["summary"], "Checkout 502s");
    assert_eq!(
        (a["severity"].as_i64(), a["alertKey"].as_str()),
        (Some(2), Some("lb/502"))
    );
    assert_eq!(a["labels"], json!({"env": "prod"}));
    assert_eq!(
        a["links"],
        json!([{"href": "https://example.com", "text": "Dash"}])
    );
    assert_eq!(a["alertSource"]["id"], 202542);
    assert_eq!(
        s.ok(&format!("/api/alerts/{id}?include=customDetails"), ADMIN)
            .await["customDetails"],
        json!({"pods": 3})
    );

    // Same key, other case and spaces: the same alert, with the event in its timeline.
    let r = s.event(&json!({"integrationKey": KEY, "eventType": "ALERT", "summary": "still 502", "alertKey": "  LB/502 "})).await;
    assert_eq!(r.status, 202);
    assert_eq!(r.body["responseCode"], "EVENT_ADDED_TO_ALERT");
    assert_eq!(r.body["alertUrl"], format!("{}/api/alerts/{id}", s.base));
    assert_eq!(r.body["alertKey"], "lb/502", "the alert's own key");
    assert_eq!(count(&s).await, before + 1);
    // A COMMENT without comments is accepted and changes nothing, as ilert answers 202 to
    // events it then filters.
    let log_before = s.ok(&format!("/api/alerts/{id}/log-entries"), ADMIN).await;
    let r = s
        .event(&json!({"integrationKey": KEY, "eventType": "COMMENT", "alertKey": "lb/502"}))
        .await;
    assert_eq!(
        (r.status.as_u16(), &r.body["responseCode"]),
        (202, &json!("NO_COMMENTS"))
    );
    assert_eq!(
        s.ok(&format!("/api/alerts/{id}/log-entries"), ADMIN).await,
        log_before
    );
    let log = s
        .ok(
            &format!("/api/alerts/{id}/log-entries?filter-types=ALERT_SOURCE_EVENTS"),
            ADMIN,
        )
        .await;
    assert_eq!(
        log[0]["text"],
        "Event from Datadog APM added to this alert: still 502"
    );

    // COMMENT lands in the log entries of the open alert.
    s.event(
        &json!({"integrationKey": KEY, "eventType": "COMMENT", "alertKey": "lb/502",
        "comments": [{"creator": "oncall-bot", "content": "Restarted the load balancer"}]}),
    )
    .await;
    let log = s.ok(&format!("/api/alerts/{id}/log-entries"), ADMIN).await;
    assert_eq!(log[0]["logEntryType"], "AlertCommentAddedLogEntry");
    assert_eq!(
        log[0]["text"],
        "oncall-bot commented: Restarted the load balancer"
    );
    let de = s
        .ok(
            &format!("/api/alerts/{id}/log-entries?lang=de&include=vars"),
            ADMIN,
        )
        .await;
    assert_eq!(
        de[0]["text"],
        "oncall-bot kommentierte: Restarted the load balancer"
    );
    assert_eq!(de[0]["vars"]["content"], "Restarted the load balancer");

    // ACCEPT and RESOLVE by key.
    s.event(&json!({"integrationKey": KEY, "eventType": "ACCEPT", "alertKey": "lb/502"}))
        .await;
    let a = s.alert(id).await;
    assert_eq!(a["status"], "ACCEPTED");
    assert!(a["nextEscalation"].is_null());
    s.event(&json!({"integrationKey": KEY, "eventType": "RESOLVE", "alertKey": "lb/502"}))
        .await;
    let a = s.alert(id).await;
    assert_eq!(a["status"], "RESOLVED");
    assert!(a["resolvedOn"].is_string());
    let log = s.ok(&format!("/api/alerts/{id}/log-entries"), ADMIN).await;
    assert_eq!(
        log[0]["text"],
        "Alert resolved by an event from Datadog APM."
    );

    // The key is free again: the next ALERT opens a new alert; events for no open alert are no-ops.
    s.event(&event("ALERT", "lb/502")).await;
    assert_eq!(count(&s).await, before + 2);
    let r = s.event(&event("RESOLVE", "never-seen")).await;
    assert_eq!(
        r.body,
        json!({"alertKey": "never-seen", "alertUrl": null, "responseCode": "NO_OPEN_ALERT"})
    );
    assert_eq!(count(&s).await, before + 2);
    // Other sources keep their own keys.
    s.event(&json!({"integrationKey": "il1api0460d849fcdc753d4f", "eventType": "ALERT", "summary": "x", "alertKey": "lb/502"})).await;
    assert_eq!(count(&s).await, before + 3);
}

#[tokio::test]
async fn without_a_key_every_event_is_an_alert_and_routing_keys_route() {
    let s = start().await;
    let before = count(&s).await;
    for _ in 0..2 {
        s.event(&json!({"integrationKey": KEY, "eventType": "ALERT", "summary": "no key"}))
            .await;
    }
    assert_eq!(count(&s).await, before + 2);
    s.event(&json!({"integrationKey": KEY, "eventType": "ALERT", "summary": "routed", "routingKey": "unknown,storefront"})).await;
    let a = s.ok("/api/alerts?max-results=1", ADMIN).await[0].clone();
    assert_eq!(a["summary"], "routed");
    assert_eq!(a["escalationPolicy"]["id"], 3103);
    assert_eq!(a["alertSource"]["id"], 202542);
    // Legacy field names.
    let r = s.event(&json!({"apiKey": KEY, "eventType": "alert", "summary": "legacy", "incidentKey": "old/1"})).await;
    assert_eq!(r.status, 202);
    assert_eq!(
        s.ok("/api/alerts?max-results=1", ADMIN).await[0]["alertKey"],
        "old/1"
    );
}

#[tokio::test]
async fn bad_events_are_400_and_unknown_keys_404() {
    let s = start().await;
    for (body, field) in [
        (
            json!({"eventType": "ALERT", "summary": "x"}),
            "integrationKey",
        ),
        (json!({"integrationKey": KEY, "summary": "x"}), "eventType"),
        (
            json!({"integrationKey": KEY, "eventType": "FIRE", "summary": "x"}),
            "eventType",
        ),
        (
            json!({"integrationKey": KEY, "eventType": "ALERT"}),
            "summary",
        ),
        (
            json!({"integrationKey": KEY, "eventType": "ALERT", "summary": "x", "severity": "SEV1"}),
            "severity",
        ),
        (
            json!({"integrationKey": KEY, "eventType": "ALERT", "summary": "x", "severity": 6}),
            "severity",
        ),
        (
            json!({"integrationKey": KEY, "eventType": "ALERT", "summary": "x", "priority": "URGENT"}),
            "priority",
        ),
        (
            json!({"integrationKey": KEY, "eventType": "ACCEPT"}),
            "alertKey",
        ),
        (
            json!({"integrationKey": KEY, "eventType": "ALERT", "summary": "x", "labels": {"n": 1}}),
            "labels",
        ),
    ] {
        let r = s.event(&body).await;
        assert!(
            assert_error(&r, 400, "BAD_REQUEST").contains(field),
            "{body}: {}",
            r.body
        );
    }
    let r = s
        .event(&json!({"integrationKey": "il1nope", "eventType": "ALERT", "summary": "x"}))
        .await;
    assert_error(&r, 404, "NOT_FOUND");
    let r = s
        .request(
            reqwest::Method::POST,
            "/api/events",
            None,
            Some("{not json"),
        )
        .await;
    assert_error(&r, 400, "BAD_REQUEST");
}

#[tokio::test]
async fn maintenance_windows_hold_back_alerts() {
    let s = start().await;
    let now = chrono::Utc::now();
    let window = json!({"summary": "Datadog agent upgrade", "start": (now - chrono::Duration::minutes(5)).to_rfc3339(),
        "end": (now + chrono::Duration::hours(1)).to_rfc3339(), "alertSources": [{"id": 202542}], "services": [{"id": 805}]});
    let r = s.post("/api/maintenance-windows", USER, &window).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        s.ok("/api/alert-sources/202542", ADMIN).await["status"],
        "IN_MAINTENANCE"
    );
    assert_eq!(
        s.ok("/api/services/805", ADMIN).await["status"],
        "UNDER_MAINTENANCE"
    );
    let before = count(&s).await;
    assert_eq!(
        s.event(&event("ALERT", "during-maintenance")).await.status,
        202
    );
    assert_eq!(count(&s).await, before, "no alert while in maintenance");
    s.clock.advance(61 * MINUTE);
    assert_eq!(
        s.ok("/api/services/805", ADMIN).await["status"],
        "OPERATIONAL"
    );
    s.event(&event("ALERT", "after-maintenance")).await;
    assert_eq!(count(&s).await, before + 1);
    let open = s.ok("/api/maintenance-windows?state=OPEN", ADMIN).await;
    assert!(!ids(&open).contains(&r.body["id"].as_i64().unwrap()));
}

#[tokio::test]
async fn fifty_events_a_minute_per_integration_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.rate_limit_per_minute = Some(120);
    let s = start_with(cfg).await;
    for i in 0..50 {
        assert_eq!(
            s.event(&event("RESOLVE", &format!("k{i}"))).await.status,
            202
        );
    }
    let r = s.event(&event("RESOLVE", "one-too-many")).await;
    assert!(assert_error(&r, 429, "TOO_MANY_REQUESTS").contains("50"));
    assert!(!r.headers.contains_key("retry-after"));
    // Another source's key has its own budget; API keys are unaffected.
    assert_eq!(s.event(&json!({"integrationKey": "il1api0460d849fcdc753d4f", "eventType": "RESOLVE", "alertKey": "x"})).await.status, 202);
    s.ok("/api/alerts/count", ADMIN).await;
    s.stop().await;
}
