//! `GET /api/alerts/{id}` with its includes.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn pending_checkout_alert_with_all_includes() {
    let s = start().await;
    let a = s
        .ok(
            "/api/alerts/4722?include=escalationRules&include=nextEscalationUser&include=customDetails",
            ADMIN,
        )
        .await;
    assert_eq!(a["id"], 4722);
    assert_eq!(
        a["summary"],
        "Payment provider returns 5xx for 4% of requests"
    );
    assert_eq!(a["status"], "PENDING");
    assert_eq!(a["priority"], "HIGH");
    assert_eq!(a["severity"], 1);
    assert_eq!(a["alertKey"], "checkout-api/payment-provider-5xx");
    assert!(a.get("resolvedOn").is_none());
    assert_eq!(a["alertSource"]["id"], 202543);
    assert_eq!(a["alertSource"]["name"], "Checkout API");
    assert_eq!(a["alertSource"]["integrationType"], "API");
    assert_eq!(
        a["alertSource"]["integrationKey"],
        "il1api0460d849fcdc753d4f"
    );
    assert_eq!(a["alertSource"]["escalationPolicy"]["id"], 3101);
    assert_eq!(a["escalationPolicy"]["id"], 3101);
    assert_eq!(a["escalationPolicy"]["name"], "Checkout on-call");
    assert_eq!(a["labels"]["service"], "checkout-api");
    assert_eq!(a["links"][1]["text"], "Runbook: payment provider errors");
    assert_eq!(a["mergeState"], "NONE");

    // Level 1 (the primary schedule) when it came in, level 2 (the secondary) 15 minutes later.
    let responders = a["responders"].as_array().unwrap();
    assert!(
        !responders.is_empty() && responders.len() <= 2,
        "{responders:?}"
    );
    for r in responders {
        assert_eq!(r["status"], "PENDING");
        assert!(r.get("acceptedAt").is_none());
        let mut keys: Vec<&str> = r["user"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["firstName", "id", "lastName"], "a UserRel");
    }

    let rules = a["escalationRules"].as_array().unwrap();
    assert_eq!(rules.len(), 3);
    assert_eq!(rules[0]["escalationTimeout"], 15);
    assert_eq!(
        rules[0]["schedules"][0],
        json!({"id": 7001, "name": "Checkout primary", "type": "RECURRING"})
    );
    assert_eq!(rules[1]["schedules"][0]["type"], "STATIC");
    assert_eq!(
        rules[2]["users"][0],
        json!({"id": 10001, "firstName": "Maya", "lastName": "Chen"})
    );
    assert_eq!(a["nextEscalationRuleIndex"], 2);
    assert_eq!(a["nextEscalationUser"]["firstName"], "Maya");
    assert_eq!(a["nextEscalationUser"]["email"], "maya.chen@example.com");
    assert_eq!(a["customDetails"]["dependency"], "payment-provider");
}

#[tokio::test]
async fn integration_keys_only_for_those_who_may_change_sources() {
    let s = start().await;
    for (key, shown) in [
        (ADMIN, true),
        (USER, true),
        (RESPONDER, false),
        (STAKEHOLDER, false),
    ] {
        let a = s.ok("/api/alerts/4722", key).await;
        assert_eq!(
            a["alertSource"].get("integrationKey").is_some(),
            shown,
            "{key}"
        );
        assert_eq!(
            a["summary"],
            "Payment provider returns 5xx for 4% of requests"
        );
    }
}

#[tokio::test]
async fn includes_are_opt_in() {
    let s = start().await;
    let a = s.ok("/api/alerts/4721", ADMIN).await;
    let obj = a.as_object().unwrap();
    for key in ["escalationRules", "nextEscalationUser", "customDetails"] {
        assert!(!obj.contains_key(key), "{key}");
    }
    assert_eq!(a["status"], "ACCEPTED");
    let accepted: Vec<_> = a["responders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "ACCEPTED")
        .collect();
    assert_eq!(accepted.len(), 1);
    assert!(accepted[0]["acceptedAt"].as_str().unwrap() > a["reportTime"].as_str().unwrap());
    assert!(a["nextEscalation"].is_null());

    // Comma lists work too; an accepted alert has nobody to escalate to.
    let a = s
        .ok(
            "/api/alerts/4721?include=customDetails,nextEscalationUser",
            ADMIN,
        )
        .await;
    assert!(a["customDetails"].is_object());
    assert!(a["nextEscalationUser"].is_null());
}

#[tokio::test]
async fn resolved_alert_has_resolved_on() {
    let s = start().await;
    let a = s.ok("/api/alerts/4715", RESPONDER).await;
    assert_eq!(a["status"], "RESOLVED");
    assert!(a["resolvedOn"].as_str().unwrap() > a["reportTime"].as_str().unwrap());
}

#[tokio::test]
async fn bad_and_unknown_ids() {
    let s = start().await;
    let r = s.get("/api/alerts/abc", ADMIN).await;
    assert!(assert_error(&r, 400, "BAD_REQUEST").contains("abc"));
    let r = s.get("/api/alerts/123", ADMIN).await;
    assert_error(&r, 404, "NOT_FOUND");
    assert_eq!(
        r.body,
        json!({"status": 404, "message": "Alert 123 not found", "code": "NOT_FOUND"})
    );
}
