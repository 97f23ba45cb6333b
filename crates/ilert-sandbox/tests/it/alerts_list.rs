//! `GET /api/alerts` filters, order and paging, and `GET /api/alerts/count`.

use serde_json::Value;

use crate::common::*;

fn desc(from: i64, to: i64) -> Vec<i64> {
    (from..=to).rev().collect()
}

#[tokio::test]
async fn default_list_is_newest_first_with_alert_fields() {
    let s = start().await;
    let body = s.ok("/api/alerts", STAKEHOLDER).await;
    let alerts = body.as_array().unwrap();
    assert_eq!(alerts.len(), 32);
    let ids: Vec<i64> = alerts.iter().map(|a| a["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, desc(4695, 4726));
    let times: Vec<&str> = alerts
        .iter()
        .map(|a| a["reportTime"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] > w[1]), "{times:?}");
    for a in alerts {
        let t = a["reportTime"].as_str().unwrap();
        assert_eq!(t.len(), "2026-11-23T21:58:03.512Z".len(), "{t}");
        assert!(t.ends_with('Z'));
        assert!(a["alertSource"]["name"].is_string());
        assert!(a["alertSource"]["integrationType"].is_string());
        assert!(a["escalationPolicy"]["name"].is_string());
        assert!(a["responders"].as_array().is_some());
        assert_eq!(a["mergeState"], "NONE");
        assert!(a["labels"].is_object());
        assert!(a["images"].is_array());
        let obj = a.as_object().unwrap();
        for include_only in ["escalationRules", "nextEscalationUser", "customDetails"] {
            assert!(
                !obj.contains_key(include_only),
                "{include_only} without include"
            );
        }
    }
    // The newest, 4726, is a short spike the source resolved; the one before it still waits.
    assert_eq!(alerts[0]["status"], "RESOLVED");
    let newest_open = &alerts[1];
    assert_eq!(newest_open["status"], "PENDING");
    assert_eq!(newest_open["priority"], "LOW");
    // Nobody sees `null`s: absent values are left out.
    assert!(!body.to_string().contains("null"));
}

#[tokio::test]
async fn states_filter_repeated_legacy_and_comma() {
    let s = start().await;
    assert_eq!(
        s.alert_ids("?states=PENDING").await,
        [4725, 4724, 4723, 4722, 4719]
    );
    assert_eq!(
        s.alert_ids("?states=PENDING&states=ACCEPTED").await,
        [4725, 4724, 4723, 4722, 4721, 4719, 4718]
    );
    assert_eq!(s.alert_ids("?state=ACCEPTED").await, [4721, 4718]);
    assert_eq!(s.alert_ids("?states=ACCEPTED&state=PENDING").await.len(), 7);
    assert_eq!(s.alert_ids("?states=PENDING,ACCEPTED").await.len(), 7);
    assert_eq!(s.alert_ids("?states=RESOLVED").await.len(), 25);
    for a in s
        .ok("/api/alerts?states=RESOLVED", ADMIN)
        .await
        .as_array()
        .unwrap()
    {
        assert!(a["resolvedOn"].is_string());
    }
    for a in s
        .ok("/api/alerts?states=PENDING&states=ACCEPTED", ADMIN)
        .await
        .as_array()
        .unwrap()
    {
        assert!(a["resolvedOn"].is_null());
    }
}

#[tokio::test]
async fn source_policy_and_responder_filters() {
    let s = start().await;
    assert_eq!(
        s.alert_ids("?sources=202544").await,
        [4720, 4714, 4706, 4697]
    );
    assert_eq!(
        s.alert_ids("?alert-source=202544").await,
        [4720, 4714, 4706, 4697]
    );
    assert_eq!(
        s.alert_ids("?sources=202542&sources=202543").await.len(),
        13
    );
    assert_eq!(s.alert_ids("?sources=1").await, Vec::<i64>::new());
    assert_eq!(
        s.alert_ids("?policies=3103").await,
        [4725, 4720, 4714, 4708, 4706, 4700, 4697]
    );
    assert_eq!(s.alert_ids("?policies=3101&policies=3102").await.len(), 25);

    // Who responded depends on who was on call when the seed ran; use whoever it was.
    let who = responder_ids(&s.alert(4722).await)[0];
    let user = s.ok(&format!("/api/users/{who}"), ADMIN).await;
    let theirs = s.alert_ids(&format!("?responders={who}")).await;
    assert!(theirs.contains(&4722));
    for id in &theirs {
        assert!(
            responder_ids(&s.alert(*id).await).contains(&who),
            "alert {id}"
        );
    }
    let email = user["email"].as_str().unwrap();
    assert_eq!(s.alert_ids(&format!("?responders={email}")).await, theirs);
    let username = email.trim_end_matches("@example.com").to_uppercase();
    assert_eq!(
        s.alert_ids(&format!("?responders={username}")).await,
        theirs
    );
    assert_eq!(s.alert_ids(&format!("?assigned-to={who}")).await, theirs);
    assert_eq!(s.alert_ids("?responders=10004").await, Vec::<i64>::new());
    assert_eq!(s.alert_ids("?responders=nobody").await, Vec::<i64>::new());
    let pending: Vec<i64> = theirs
        .iter()
        .copied()
        .filter(|id| [4725, 4724, 4723, 4722, 4719].contains(id))
        .collect();
    assert_eq!(
        s.alert_ids(&format!("?responders={who}&states=PENDING"))
            .await,
        pending
    );
    assert_eq!(
        s.alert_ids("?sources=202541&states=PENDING&unknown=1&include=whatever")
            .await,
        [4724, 4719]
    );
}

#[tokio::test]
async fn from_until_window_on_report_time() {
    let s = start().await;
    let all = s.ok("/api/alerts", ADMIN).await;
    let time_of = |id: i64| -> String {
        all.as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .unwrap()["reportTime"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (t4715, t4720) = (time_of(4715), time_of(4720));
    // `from` is inclusive, `until` exclusive.
    let q = format!("?from={t4715}&until={t4720}");
    assert_eq!(s.alert_ids(&q).await, desc(4715, 4719));
    assert_eq!(
        s.alert_ids(&format!("?from={t4720}")).await,
        desc(4720, 4726)
    );
    assert_eq!(
        s.alert_ids(&format!("?until={t4715}")).await,
        desc(4695, 4714)
    );
    // An explicit offset, percent-encoded as clients should send it.
    let shifted = t4720.replace('Z', "%2B00:00");
    assert_eq!(
        s.alert_ids(&format!("?from={shifted}")).await,
        desc(4720, 4726)
    );
    let count = s.ok(&format!("/api/alerts/count{q}"), ADMIN).await;
    assert_eq!(count["count"], 5);
}

#[tokio::test]
async fn paging_with_start_index_and_max_results() {
    let s = start().await;
    assert_eq!(s.alert_ids("?max-results=5").await, desc(4722, 4726));
    assert_eq!(
        s.alert_ids("?start-index=5&max-results=5").await,
        desc(4717, 4721)
    );
    assert_eq!(
        s.alert_ids("?start-index=25&max-results=10").await,
        desc(4695, 4701)
    );
    assert_eq!(s.alert_ids("?start-index=32").await, Vec::<i64>::new());
    assert_eq!(s.alert_ids("?max-results=100").await.len(), 32);
    assert_eq!(
        s.alert_ids("?max-results=1&states=ACCEPTED&start-index=1")
            .await,
        [4718]
    );
}

#[tokio::test]
async fn bad_paging_values_are_400() {
    let s = start().await;
    for (query, param) in [
        ("max-results=101", "max-results"),
        ("max-results=0", "max-results"),
        ("max-results=abc", "max-results"),
        ("start-index=-1", "start-index"),
        ("start-index=x", "start-index"),
    ] {
        let r = s.get(&format!("/api/alerts?{query}"), ADMIN).await;
        let message = assert_error(&r, 400, "BAD_REQUEST");
        assert!(message.contains(param), "{query}: {message}");
    }
}

#[tokio::test]
async fn malformed_filter_values_are_400_naming_the_parameter() {
    let s = start().await;
    for (query, param) in [
        ("states=FOO", "states"),
        ("state=pending", "state"),
        ("sources=abc", "sources"),
        ("alert-source=x", "alert-source"),
        ("policies=1.5", "policies"),
        ("from=yesterday", "from"),
        ("until=2026-13-45T00:00:00Z", "until"),
    ] {
        for endpoint in ["/api/alerts", "/api/alerts/count"] {
            let r = s.get(&format!("{endpoint}?{query}"), ADMIN).await;
            let message = assert_error(&r, 400, "BAD_REQUEST");
            assert!(
                message.contains(&format!("'{param}'")),
                "{query}: {message}"
            );
        }
    }
}

#[tokio::test]
async fn list_include_next_escalation_user() {
    let s = start().await;
    let body = s
        .ok(
            "/api/alerts?include=nextEscalationUser&states=PENDING",
            ADMIN,
        )
        .await;
    let by_id = |id: i64| -> Value {
        body.as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .unwrap()
            .clone()
    };
    // 4722 came in 23 minutes ago and has escalated past the first level (15 minutes); the
    // third level is Maya.
    let high = by_id(4722);
    assert_eq!(high["nextEscalationUser"]["email"], "maya.chen@example.com");
    assert_eq!(high["nextEscalationRuleIndex"], 2);
    assert!(high["nextEscalation"].as_str().unwrap() > high["reportTime"].as_str().unwrap());
    // LOW alerts stay on the first level, so nobody is next.
    let low = by_id(4719);
    assert_eq!(low["priority"], "LOW");
    assert!(low["nextEscalationUser"].is_null());
    assert!(low["nextEscalation"].is_null());
    assert!(!high.as_object().unwrap().contains_key("escalationRules"));
}

#[tokio::test]
async fn count_takes_the_filters_but_not_paging() {
    let s = start().await;
    assert_eq!(
        s.ok("/api/alerts/count", RESPONDER).await,
        serde_json::json!({"count": 32})
    );
    assert_eq!(
        s.ok("/api/alerts/count?states=PENDING", ADMIN).await["count"],
        5
    );
    assert_eq!(
        s.ok("/api/alerts/count?states=PENDING&states=ACCEPTED", ADMIN)
            .await["count"],
        7
    );
    assert_eq!(
        s.ok("/api/alerts/count?state=RESOLVED&sources=202541", ADMIN)
            .await["count"],
        7
    );
    let who = responder_ids(&s.alert(4722).await)[0];
    assert_eq!(
        s.ok(&format!("/api/alerts/count?responders={who}"), ADMIN)
            .await["count"],
        s.alert_ids(&format!("?responders={who}")).await.len()
    );
    assert_eq!(
        s.ok("/api/alerts/count?policies=3103", ADMIN).await["count"],
        7
    );
    assert_eq!(
        s.ok("/api/alerts/count?max-results=2&start-index=5", ADMIN)
            .await["count"],
        32
    );
}
