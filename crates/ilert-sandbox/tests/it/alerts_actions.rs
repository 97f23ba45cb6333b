//! `PUT /api/alerts/{id}/accept` and `/resolve`: transitions, idempotence, role limits.

use reqwest::Method;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn accept_then_accept_again() {
    let s = start().await;
    let before = s.alert(4722).await;
    let r = s.put("/api/alerts/4722/accept", USER).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let a = r.body;
    assert_eq!(a["id"], 4722);
    assert_eq!(a["status"], "ACCEPTED");
    assert!(a["resolvedOn"].is_null());
    assert!(a["nextEscalation"].is_null(), "accepting stops escalation");
    let jonas = responder(&a, 10002).unwrap();
    assert_eq!(jonas["status"], "ACCEPTED");
    assert!(jonas["acceptedAt"].as_str().unwrap().ends_with('Z'));
    for other in responder_ids(&before).into_iter().filter(|id| *id != 10002) {
        assert_eq!(responder(&a, other).unwrap()["status"], "PENDING");
    }

    let again = s.put("/api/alerts/4722/accept", USER).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body, a, "a second accept changes nothing");
    assert_eq!(s.ok("/api/alerts/4722", USER).await, a);
    assert_eq!(
        s.ok("/api/alerts/count?states=PENDING", ADMIN).await["count"],
        4
    );
    let log = s.ok("/api/alerts/4722/log-entries", ADMIN).await;
    assert_eq!(log[0]["logEntryType"], "UserResponseLogEntry");
    assert_eq!(log[0]["text"], "Alert accepted by Jonas Weber.");
}

#[tokio::test]
async fn accepting_adds_a_caller_who_was_not_a_responder() {
    let s = start().await;
    let before = responder_ids(&s.alert(4723).await);
    let a = s.put("/api/alerts/4723/accept", RESPONDER).await.body;
    assert_eq!(a["status"], "ACCEPTED");
    let priya = responder(&a, 10003).unwrap();
    assert_eq!(priya["status"], "ACCEPTED");
    assert_eq!(priya["user"]["firstName"], "Priya");
    let expected = before.len() + usize::from(!before.contains(&10003));
    assert_eq!(a["responders"].as_array().unwrap().len(), expected);
    assert!(
        s.alert_ids("?responders=10003&states=ACCEPTED")
            .await
            .contains(&4723)
    );
}

#[tokio::test]
async fn resolve_then_resolve_again_then_accept_fails() {
    let s = start().await;
    let a = s.put("/api/alerts/4724/resolve", ADMIN).await.body;
    assert_eq!(a["status"], "RESOLVED");
    let resolved_on = a["resolvedOn"].as_str().unwrap().to_owned();
    assert!(resolved_on.as_str() > a["reportTime"].as_str().unwrap());
    assert!(a["nextEscalation"].is_null());

    let again = s.put("/api/alerts/4724/resolve", RESPONDER).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["resolvedOn"], resolved_on.as_str());
    assert_eq!(s.alert(4724).await, a, "a second resolve changes nothing");

    let r = s.put("/api/alerts/4724/accept", ADMIN).await;
    assert_error(&r, 400, "BAD_REQUEST");
    assert_eq!(
        r.body,
        json!({"status": 400, "message": "Alert 4724 is already resolved and cannot be accepted", "code": "BAD_REQUEST"})
    );
}

#[tokio::test]
async fn accepted_alert_can_be_resolved() {
    let s = start().await;
    let before = s.alert(4721).await;
    let acceptor = before["responders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "ACCEPTED")
        .unwrap()["user"]["id"]
        .as_i64()
        .unwrap();
    let a = s.put("/api/alerts/4721/resolve", USER).await.body;
    assert_eq!(a["status"], "RESOLVED");
    assert_eq!(responder(&a, acceptor).unwrap()["status"], "ACCEPTED");
    let r = s.put("/api/alerts/4711/accept", USER).await;
    assert!(assert_error(&r, 400, "BAD_REQUEST").contains("4711"));
}

#[tokio::test]
async fn stakeholders_may_read_but_not_act() {
    let s = start().await;
    for action in ["accept", "resolve"] {
        let r = s
            .put(&format!("/api/alerts/4722/{action}"), STAKEHOLDER)
            .await;
        let message = assert_error(&r, 403, "FORBIDDEN");
        assert!(message.contains("not allowed to"), "{message}");
        assert!(message.contains(action), "{message}");
    }
    assert_eq!(
        s.ok("/api/alerts/4722", STAKEHOLDER).await["status"],
        "PENDING"
    );
}

#[tokio::test]
async fn unknown_or_bad_ids_and_ignored_bodies() {
    let s = start().await;
    let r = s.put("/api/alerts/999/accept", ADMIN).await;
    assert_eq!(
        r.body,
        json!({"status": 404, "message": "Alert 999 not found", "code": "NOT_FOUND"})
    );
    let r = s.put("/api/alerts/999/resolve", ADMIN).await;
    assert_error(&r, 404, "NOT_FOUND");
    let r = s.put("/api/alerts/x/resolve", ADMIN).await;
    assert_error(&r, 400, "BAD_REQUEST");
    let r = s
        .request(
            Method::PUT,
            "/api/alerts/4719/accept",
            Some(RESPONDER),
            Some("{not json"),
        )
        .await;
    assert_eq!(r.status, 200, "the body of accept is ignored: {}", r.body);
    assert_eq!(r.body["status"], "ACCEPTED");
}
