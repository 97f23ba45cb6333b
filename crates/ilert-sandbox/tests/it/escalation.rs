//! Escalation: new alerts reach whoever is on call at that moment, level by level, as the
//! sandbox's clock moves; accepting stops it; empty levels fall through; LOW alerts stay put.

use chrono::DateTime;
use serde_json::{Value, json};

use crate::common::*;

fn ms(iso: &str) -> i64 {
    DateTime::parse_from_rfc3339(iso)
        .unwrap()
        .timestamp_millis()
}

/// One millisecond after an ISO timestamp, in the same format.
fn next_ms(iso: &str) -> String {
    let t = DateTime::parse_from_rfc3339(iso).unwrap() + chrono::Duration::milliseconds(1);
    t.to_utc().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Who the schedule has on call at `at`.
async fn on_call_at(s: &Server, schedule: i64, at: &str) -> i64 {
    let url = format!(
        "/api/schedules/{schedule}/shifts?from={at}&until={}",
        next_ms(at)
    );
    s.ok(&url, ADMIN).await[0]["user"]["id"].as_i64().unwrap()
}

fn log_types(log: &Value) -> Vec<String> {
    log.as_array()
        .unwrap()
        .iter()
        .map(|e| e["logEntryType"].as_str().unwrap().to_owned())
        .collect()
}

async fn newest_alert(s: &Server, source: i64) -> Value {
    s.ok(
        &format!("/api/alerts?sources={source}&max-results=1"),
        ADMIN,
    )
    .await[0]
        .clone()
}

#[tokio::test]
async fn seeded_policy_escalates_through_its_schedules_until_accepted() {
    let s = start().await;
    let r = s
        .event(&json!({"integrationKey": "il1api0460d849fcdc753d4f", "eventType": "ALERT", "summary": "Card payments failing", "alertKey": "esc/1"}))
        .await;
    assert_eq!(r.status, 202);
    let a = newest_alert(&s, 202543).await;
    assert_eq!(a["summary"], "Card payments failing");
    let primary = on_call_at(&s, 7001, a["reportTime"].as_str().unwrap()).await;
    assert_eq!(
        responder_ids(&a),
        [primary],
        "level 1 is the primary schedule's on-call"
    );
    assert_eq!(a["nextEscalationRuleIndex"], 1);
    let id = a["id"].as_i64().unwrap();
    let due = a["nextEscalation"].as_str().unwrap().to_owned();

    // Fifteen minutes on, level 2: whoever the STATIC secondary schedule has on call then.
    s.clock.advance(16 * MINUTE);
    let secondary = on_call_at(&s, 7004, &due).await;
    let a = s.alert(id).await;
    assert!(responder_ids(&a).contains(&secondary), "{a}");
    assert_eq!(a["nextEscalationRuleIndex"], 2);
    let log = s
        .ok(
            &format!("/api/alerts/{id}/log-entries?filter-types=ALERT_UPDATES"),
            ADMIN,
        )
        .await;
    assert!(
        log[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Alert escalated to level 2 of Checkout on-call"),
        "{log}"
    );
    let notified: Vec<i64> = s
        .ok(&format!("/api/alerts/{id}/notifications"), ADMIN)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["user"]["id"].as_i64().unwrap())
        .collect();
    assert!(notified.contains(&primary) && notified.contains(&secondary));

    // Accepting stops it: an hour later nobody else was added.
    let accepted = s.put(&format!("/api/alerts/{id}/accept"), USER).await.body;
    assert!(accepted["nextEscalation"].is_null());
    let before = log_types(&s.ok(&format!("/api/alerts/{id}/log-entries"), ADMIN).await);
    s.clock.advance(60 * MINUTE);
    let after = s.alert(id).await;
    assert_eq!(after["status"], "ACCEPTED");
    assert_eq!(responder_ids(&after).len(), responder_ids(&accepted).len());
    assert_eq!(
        log_types(&s.ok(&format!("/api/alerts/{id}/log-entries"), ADMIN).await),
        before
    );
}

/// Builds: a STATIC schedule with nobody on call, an hourly rotation, and a policy Yuki (40 min)
/// → the empty schedule → the rotation, on a new API alert source. Returns the source key.
async fn hourly_setup(s: &Server) -> (String, i64) {
    let empty = s
        .post("/api/schedules", ADMIN, &json!({"name": "Empty", "timezone": "UTC", "type": "STATIC",
            "shifts": [{"user": {"id": 10001}, "start": "2099-01-01T00:00:00Z", "end": "2099-01-02T00:00:00Z"}]}))
        .await;
    assert_eq!(empty.status, 201, "{}", empty.body);
    let hourly = s
        .post("/api/schedules", ADMIN, &json!({"name": "Hourly", "timezone": "UTC", "type": "RECURRING",
            "scheduleLayers": [{"startsOn": "2030-01-07T00:00:00Z", "users": [{"id": 10005}, {"id": 10012}], "rotation": "PT1H"}]}))
        .await;
    assert_eq!(hourly.status, 201, "{}", hourly.body);
    let policy = s
        .post(
            "/api/escalation-policies",
            ADMIN,
            &json!({"name": "Hourly policy", "escalationRules": [
            {"escalationTimeout": 40, "users": [{"id": 10007}]},
            {"escalationTimeout": 5, "schedules": [{"id": empty.body["id"]}]},
            {"escalationTimeout": 10, "schedules": [{"id": hourly.body["id"]}]}]}),
        )
        .await;
    assert_eq!(policy.status, 201, "{}", policy.body);
    let source = s
        .post("/api/alert-sources", ADMIN, &json!({"name": "Hourly API", "integrationType": "API", "escalationPolicy": {"id": policy.body["id"]}}))
        .await;
    assert_eq!(source.status, 201, "{}", source.body);
    (
        source.body["integrationKey"].as_str().unwrap().to_owned(),
        source.body["id"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn escalation_reaches_whoever_is_on_call_then_and_skips_empty_levels() {
    let s = start().await;
    s.clock.set_now_ms(ms("2030-01-07T09:30:00Z"));
    let (key, source) = hourly_setup(&s).await;
    s.event(
        &json!({"integrationKey": key, "eventType": "ALERT", "summary": "High", "alertKey": "h"}),
    )
    .await;
    s.event(&json!({"integrationKey": key, "eventType": "ALERT", "summary": "Low", "alertKey": "l", "priority": "LOW"})).await;
    let alerts = s.ok(&format!("/api/alerts?sources={source}"), ADMIN).await;
    let (low, high) = (
        alerts[0]["id"].as_i64().unwrap(),
        alerts[1]["id"].as_i64().unwrap(),
    );
    assert_eq!(alerts[1]["summary"], "High");
    assert_eq!(responder_ids(&alerts[1]), [10007]);
    assert!(
        alerts[1]["nextEscalation"]
            .as_str()
            .unwrap()
            .starts_with("2030-01-07T10:10:00")
    );
    assert_eq!(responder_ids(&alerts[0]), [10007]);
    assert!(
        alerts[0]["nextEscalation"].is_null(),
        "LOW alerts stay on the first level"
    );

    // At 10:10 level 2 has nobody, so level 3 follows at once: the 10:00 hour is Lena's.
    s.clock.set_now_ms(ms("2030-01-07T10:11:00Z"));
    let a = s.alert(high).await;
    assert_eq!(responder_ids(&a), [10007, 10005]);
    assert!(a["nextEscalation"].is_null(), "the policy is exhausted");
    let log = s
        .ok(
            &format!("/api/alerts/{high}/log-entries?include=vars"),
            ADMIN,
        )
        .await;
    let entries: Vec<(&str, &str)> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["filterTypes"][0] == "ALERT_UPDATES")
        .map(|e| {
            (
                e["logEntryType"].as_str().unwrap(),
                e["timestamp"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(entries[0].0, "AlertEscalatedToLevelLogEntry");
    assert!(
        entries[0].1.starts_with("2030-01-07T10:10:00"),
        "escalated as of its due time: {entries:?}"
    );
    assert_eq!(entries[1].0, "NobodyOnCallLogEntry");
    let escalated = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["logEntryType"] == "AlertEscalatedToLevelLogEntry")
        .unwrap();
    assert_eq!(escalated["vars"]["level"], "3");
    assert_eq!(escalated["vars"]["users"], "Lena Hoffmann");
    assert_eq!(responder_ids(&s.alert(low).await), [10007]);
}

#[tokio::test]
async fn assigning_replaces_responders_and_restarts_escalation() {
    let s = start().await;
    s.clock.set_now_ms(ms("2030-01-07T09:30:00Z"));
    let (key, source) = hourly_setup(&s).await;
    s.event(
        &json!({"integrationKey": key, "eventType": "ALERT", "summary": "High", "alertKey": "h"}),
    )
    .await;
    let id = newest_alert(&s, source).await["id"].as_i64().unwrap();
    let accepted = s.put(&format!("/api/alerts/{id}/accept"), RESPONDER).await;
    assert_eq!(accepted.body["status"], "ACCEPTED");

    // To a user by e-mail: only they remain, and the alert is theirs to accept.
    let a = s
        .put(
            &format!("/api/alerts/{id}/assign?user-id=oliver.bennett@example.com"),
            RESPONDER,
        )
        .await
        .body;
    assert_eq!(a["status"], "PENDING");
    assert_eq!(responder_ids(&a), [10012]);
    // To a schedule: whoever is on call now (09:xx is Oliver's hour).
    let a = s
        .put(&format!("/api/alerts/{id}/assign?schedule={}", 7003), USER)
        .await
        .body;
    assert_eq!(responder_ids(&a).len(), 1);
    // To a policy: its first level, and escalation starts over.
    let a = s
        .put(&format!("/api/alerts/{id}/assign?policy=3102"), USER)
        .await
        .body;
    assert_eq!(a["escalationPolicy"]["id"], 3102);
    assert_eq!(a["nextEscalationRuleIndex"], 1);
    let log = s.ok(&format!("/api/alerts/{id}/log-entries"), ADMIN).await;
    let types = log_types(&log);
    for t in [
        "AlertAssignedByUserLogEntry",
        "AlertAssignedToScheduleLogEntry",
        "AlertAssignedToPolicyLogEntry",
    ] {
        assert!(types.iter().any(|x| x == t), "{t} in {types:?}");
    }
    let r = s
        .put(&format!("/api/alerts/{id}/assign?user=nobody"), USER)
        .await;
    assert_error(&r, 404, "NOT_FOUND");
    let r = s
        .put(
            &format!("/api/alerts/{id}/assign?user=10001&policy=3101"),
            USER,
        )
        .await;
    assert_error(&r, 400, "BAD_REQUEST");
    s.put(&format!("/api/alerts/{id}/resolve"), USER).await;
    let r = s
        .put(&format!("/api/alerts/{id}/assign?user=10001"), USER)
        .await;
    assert_error(&r, 400, "BAD_REQUEST");
}

#[tokio::test]
async fn manual_alerts_and_responders_by_hand() {
    let s = start().await;
    let created = s
        .post(
            "/api/alerts",
            RESPONDER,
            &json!({"summary": "Warehouse scanner offline", "alertSource": {"id": 202543},
            "responders": [{"user": {"id": 10009}}], "priority": "LOW"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let a = created.body;
    assert_eq!(
        responder_ids(&a),
        [10009],
        "only the named responders are notified"
    );
    assert!(
        a["nextEscalation"].is_null(),
        "and the alert does not escalate"
    );
    let id = a["id"].as_i64().unwrap();
    let log = s.ok(&format!("/api/alerts/{id}/log-entries"), ADMIN).await;
    assert_eq!(
        log.as_array().unwrap().last().unwrap()["text"],
        "Alert created by Priya Nair."
    );

    let r = s
        .post(
            &format!("/api/alerts/{id}/responders"),
            RESPONDER,
            &json!({"userId": 10012}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        r.body,
        json!({"user": {"id": 10012, "firstName": "Oliver", "lastName": "Bennett"}, "status": "PENDING"})
    );
    let r = s
        .post(
            &format!("/api/alerts/{id}/responders"),
            RESPONDER,
            &json!({"user": {"id": 10012}}),
        )
        .await;
    assert_error(&r, 405, "METHOD_NOT_ALLOWED");
    let r = s
        .post(
            &format!("/api/alerts/{id}/responders"),
            RESPONDER,
            &json!({"note": "?"}),
        )
        .await;
    assert_error(&r, 400, "BAD_REQUEST");
    assert_eq!(
        s.delete(&format!("/api/alerts/{id}/responders/10012"), RESPONDER)
            .await
            .status,
        204
    );
    assert_error(
        &s.delete(&format!("/api/alerts/{id}/responders/10012"), RESPONDER)
            .await,
        404,
        "NOT_FOUND",
    );
    assert_eq!(responder_ids(&s.alert(id).await), [10009]);

    // Without responders, the source's policy escalates it; the source's rule sets priority.
    let a = s
        .post(
            "/api/alerts",
            USER,
            &json!({"summary": "Sentry", "alertSource": {"id": 202545}}),
        )
        .await
        .body;
    assert_eq!(a["priority"], "LOW");
    assert_eq!(a["escalationPolicy"]["id"], 3103);
    assert_eq!(responder_ids(&a).len(), 1);

    let suggested = s
        .ok(
            &format!("/api/alerts/{id}/suggested-responders"),
            STAKEHOLDER,
        )
        .await;
    let groups: Vec<&str> = suggested
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["group"].as_str().unwrap())
        .collect();
    for g in ["USER", "ESCALATION_POLICY", "ON_CALL_SCHEDULE"] {
        assert!(groups.contains(&g), "{g}");
    }
    let ana = suggested
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["group"] == "USER" && x["id"] == 10009)
        .unwrap();
    assert_eq!(ana["disabled"], true, "already on the alert");
}

#[tokio::test]
async fn alert_actions_run_and_show_in_the_history() {
    let s = start().await;
    let actions = s.ok("/api/alerts/4722/actions", RESPONDER).await;
    let names: Vec<&str> = actions
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["alertActionId"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["jira-create-issue", "slack-checkout-incidents"]);
    let r = s
        .post(
            "/api/alerts/4722/actions",
            RESPONDER,
            &json!({"alertActionId": "jira-create-issue"}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["success"], true);
    assert_eq!(r.body["alertId"], 4722);
    assert_eq!(r.body["actor"]["id"], 10003);
    let actions = s.ok("/api/alerts/4722/actions", RESPONDER).await;
    assert_eq!(actions[0]["history"][0]["id"], r.body["id"]);
    let log = s
        .ok(
            "/api/alerts/4722/log-entries?filter-types=CONNECTOR_EVENTS",
            RESPONDER,
        )
        .await;
    assert_eq!(
        log[0]["text"],
        "Alert action 'Create Jira issue' run by Priya Nair succeeded."
    );
    let r = s
        .post(
            "/api/alerts/4722/actions",
            RESPONDER,
            &json!({"alertActionId": "webhook-status-bot"}),
        )
        .await;
    assert_error(&r, 400, "BAD_REQUEST");
}
