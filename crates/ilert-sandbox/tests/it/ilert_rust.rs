//! ilert's own Rust client, the crate `ilert` pinned to 5.2.0, drives the sandbox through every
//! operation it offers: what ilert's users run against ilert must run against the sandbox.
//! Each answer is checked for its status and for what it says, and writes are read back
//! through the sandbox's REST API.
//!
//! Two operations the crate offers are not in ilert's OpenAPI document (`PUT /alerts/{id}`,
//! `DELETE /incidents/{id}`); the sandbox answers them 405, as a server following the document
//! does, and this test holds it to that.

use std::collections::HashMap;

use ilert::ilert::ILert;
use ilert::ilert_builders::{
    AlertGetApiResource, AlertPutApiResource, BaseRequestResult, EscalationPolicyGetApiResource,
    EscalationPolicyPutApiResource, EventApiResource, EventComment, EventImage, EventLink,
    EventServiceRef, ILertEventType, ILertPriority, IncidentDeleteApiResource,
    IncidentGetApiResource, IncidentPostApiResource, IncidentPutApiResource, PingApiResource,
    ScheduleGetApiResource, ServiceDeleteApiResource, ServiceGetApiResource,
    ServicePostApiResource, ServicePutApiResource, UserGetApiResource, UserPostApiResource,
};
use serde_json::{Value, json};

use crate::common::*;

const SOURCE_KEY: &str = "il1dd7f2b19c4e08a36d51c";
const HEARTBEAT_KEY: &str = "il1hbt4e7a2c9f0d3b5816";

fn client(s: &Server, key: &str) -> ILert {
    let mut c = ILert::new_with_opts(Some(&s.base), Some(&s.base), Some(10), Some("contract"))
        .expect("client");
    c.auth_via_token(key).expect("token");
    c
}

fn json_of(r: &BaseRequestResult) -> &Value {
    r.body_json.as_ref().unwrap_or(&Value::Null)
}

fn check(r: &BaseRequestResult, status: u16, what: &str) {
    assert_eq!(
        r.status.as_u16(),
        status,
        "{what}: {} {:?}",
        r.url,
        r.body_raw
    );
}

#[tokio::test]
async fn ilert_rust_5_2_drives_every_operation_it_offers() {
    let s = start().await;
    let admin = client(&s, ADMIN);
    let user = client(&s, USER);

    // Heartbeats: HEAD on the ping host (202, as the crate's callers expect) and the legacy GET.
    let r = admin.head().ping(HEARTBEAT_KEY).execute().await.unwrap();
    check(&r, 202, "ping");
    #[allow(deprecated)]
    let r = {
        use ilert::ilert_builders::HeartbeatApiResource;
        admin
            .get()
            .heartbeat(HEARTBEAT_KEY)
            .execute()
            .await
            .unwrap()
    };
    assert!(r.status.is_success(), "legacy heartbeat: {}", r.status);
    let monitor = s.ok("/api/heartbeat-monitors/1101", ADMIN).await;
    assert_eq!(
        monitor["state"], "HEALTHY",
        "the pings reached monitor 1101"
    );

    // Users: paged list with the crate's filters, one user, search by e-mail.
    let r = admin
        .get()
        .skip(0)
        .limit(3)
        .filter("role", "ADMIN")
        .users()
        .execute()
        .await
        .unwrap();
    check(&r, 200, "users");
    assert_eq!(
        json_of(&r).as_array().map(Vec::len),
        Some(3),
        "limit is max-results"
    );
    let first = json_of(&r)[0]["id"].as_i64().unwrap();
    let r = admin.get().user(first).execute().await.unwrap();
    check(&r, 200, "user");
    assert_eq!(json_of(&r)["id"], first);
    let r = admin
        .create()
        .user_search_email("maya.chen@example.com")
        .execute()
        .await
        .unwrap();
    check(&r, 200, "search-email");
    assert_eq!(json_of(&r)["email"], "maya.chen@example.com");

    // Schedules.
    let r = admin.get().schedules().execute().await.unwrap();
    check(&r, 200, "schedules");
    let schedule = json_of(&r)[0]["id"].as_i64().unwrap();
    let r = admin.get().schedule(schedule).execute().await.unwrap();
    check(&r, 200, "schedule");
    let r = admin
        .get()
        .schedule_shifts(schedule)
        .execute()
        .await
        .unwrap();
    check(&r, 200, "shifts");
    assert!(json_of(&r).as_array().is_some_and(|a| !a.is_empty()));

    // Escalation policies: resolve by routing key, replace a level.
    let r = admin
        .get()
        .escalation_policy_resolve("checkout")
        .execute()
        .await
        .unwrap();
    check(&r, 200, "resolve");
    assert_eq!(json_of(&r)["id"], 3101);
    let level = json!({"escalationTimeout": 20, "users": [{"id": first}]});
    let r = admin
        .update()
        .escalation_policy_level_raw(3101, 1, &level)
        .execute()
        .await
        .unwrap();
    check(&r, 200, "policy level");
    let policy = s.ok("/api/escalation-policies/3101", ADMIN).await;
    assert_eq!(policy["escalationRules"][1]["escalationTimeout"], 20);

    // Events: plain, detailed and comment events, then accept and resolve by key.
    let r = admin
        .create()
        .event(
            SOURCE_KEY,
            ILertEventType::ALERT,
            Some("rust crate alert".into()),
            Some("rust/1".into()),
        )
        .execute()
        .await
        .unwrap();
    check(&r, 202, "event");
    assert_eq!(json_of(&r)["responseCode"], "NEW_ALERT_CREATED");
    assert_eq!(json_of(&r)["alertKey"], "rust/1");
    let alert_url = json_of(&r)["alertUrl"].as_str().unwrap().to_owned();
    let alert_id: i64 = alert_url.rsplit('/').next().unwrap().parse().unwrap();
    assert_eq!(s.alert(alert_id).await["summary"], "rust crate alert");

    let labels = HashMap::from([("env".to_owned(), "prod".to_owned())]);
    let r = admin
        .create()
        .event_with_details(
            SOURCE_KEY,
            ILertEventType::ALERT,
            Some("rust crate detailed".into()),
            Some("rust/2".into()),
            Some("details".into()),
            Some(ILertPriority::LOW),
            Some(vec![EventImage::new("https://example.com/a.png")]),
            Some(vec![EventLink::new("https://example.com")]),
            Some(json!({"pods": 3})),
            None,
            Some(2),
            Some(labels),
            Some(vec![EventServiceRef::new("checkout")]),
        )
        .execute()
        .await
        .unwrap();
    check(&r, 202, "detailed event");
    let detailed: i64 = json_of(&r)["alertUrl"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let a = s.alert(detailed).await;
    assert_eq!(
        (&a["priority"], &a["severity"], &a["labels"]),
        (&json!("LOW"), &json!(2), &json!({"env": "prod"}))
    );

    let r = admin
        .create()
        .event_with_comment(
            SOURCE_KEY,
            Some("rust/1".into()),
            Some(vec![EventComment::new("Peter Parker", "a comment")]),
        )
        .execute()
        .await
        .unwrap();
    check(&r, 202, "comment event");
    assert_eq!(json_of(&r)["responseCode"], "COMMENT_ADDED");
    let log = s
        .ok(&format!("/api/alerts/{alert_id}/log-entries"), ADMIN)
        .await;
    assert!(log.to_string().contains("a comment"), "{log}");
    // The crate sends `"comments": null` when given none: ilert answers 202 all the same.
    let r = admin
        .create()
        .event_with_comment(SOURCE_KEY, Some("rust/1".into()), None)
        .execute()
        .await
        .unwrap();
    check(&r, 202, "comment event without comments");
    assert_eq!(json_of(&r)["responseCode"], "NO_COMMENTS");

    // Alerts: list with the spec's filter name, one alert, accept, resolve; PUT /alerts/{id}
    // is not an operation of ilert's API.
    let r = admin
        .get()
        .filter("states", "PENDING")
        .alerts()
        .execute()
        .await
        .unwrap();
    check(&r, 200, "alerts");
    let listed = json_of(&r).as_array().unwrap();
    assert!(listed.iter().all(|a| a["status"] == "PENDING"));
    assert!(listed.iter().any(|a| a["id"] == alert_id));
    let r = admin.get().alert(alert_id).execute().await.unwrap();
    check(&r, 200, "alert");
    let r = user
        .update()
        .accept_alert(alert_id)
        .execute()
        .await
        .unwrap();
    check(&r, 200, "accept");
    assert_eq!(s.alert(alert_id).await["status"], "ACCEPTED");
    let r = user
        .update()
        .resolve_alert(alert_id)
        .execute()
        .await
        .unwrap();
    check(&r, 200, "resolve");
    assert_eq!(s.alert(alert_id).await["status"], "RESOLVED");
    let r = admin
        .update()
        .alert_raw(detailed, &json!({"summary": "renamed"}))
        .execute()
        .await
        .unwrap();
    check(&r, 405, "PUT /alerts/{id} is not in ilert's API");
    assert_eq!(s.alert(detailed).await["summary"], "rust crate detailed");

    // Incidents (status updates): list, one, create, update; there is no DELETE.
    let r = admin.get().incidents().execute().await.unwrap();
    check(&r, 200, "incidents");
    let r = admin.get().incident(9004).execute().await.unwrap();
    check(&r, 200, "incident");
    assert_eq!(json_of(&r)["summary"], "Elevated checkout errors");
    let body = json!({"summary": "Search is slow", "status": "INVESTIGATING", "message": "Looking.",
        "sendNotification": false, "affectedServices": [{"service": {"id": 804}, "impact": "DEGRADED"}]});
    let r = user.create().incident_raw(&body).execute().await.unwrap();
    check(&r, 200, "create incident");
    let incident = json_of(&r)["id"].as_i64().unwrap();
    let mut update = body.clone();
    update["status"] = json!("MONITORING");
    update["message"] = json!("Fixed, watching.");
    let r = user
        .update()
        .incident_raw(incident, &update)
        .execute()
        .await
        .unwrap();
    check(&r, 200, "update incident");
    let stored = s
        .ok(&format!("/api/incidents/{incident}?include=history"), USER)
        .await;
    assert_eq!(stored["status"], "MONITORING");
    assert_eq!(stored["history"].as_array().map(Vec::len), Some(2));
    let r = admin.delete().incident(incident).execute().await.unwrap();
    check(&r, 405, "DELETE /incidents/{id} is not in ilert's API");

    // Services: list, one, create, update, delete.
    let r = admin.get().services().execute().await.unwrap();
    check(&r, 200, "services");
    let r = admin.get().service(801).execute().await.unwrap();
    check(&r, 200, "service");
    assert_eq!(json_of(&r)["id"], 801);
    let r = user
        .create()
        .service_raw(&json!({"name": "Rust crate service"}))
        .execute()
        .await
        .unwrap();
    check(&r, 201, "create service");
    let service = json_of(&r)["id"].as_i64().unwrap();
    let r = user
        .update()
        .service_raw(
            service,
            &json!({"name": "Rust crate service 2", "status": "DEGRADED"}),
        )
        .execute()
        .await
        .unwrap();
    check(&r, 200, "update service");
    assert_eq!(
        s.ok(&format!("/api/services/{service}"), USER).await["name"],
        "Rust crate service 2"
    );
    let r = user.delete().service(service).execute().await.unwrap();
    check(&r, 204, "delete service");
    assert_eq!(
        s.get(&format!("/api/services/{service}"), USER)
            .await
            .status,
        404
    );

    // Errors come back as ilert's error body, which the crate hands over as JSON.
    let stranger = client(&s, "not-a-key");
    let r = stranger.get().users().execute().await.unwrap();
    check(&r, 403, "bad key");
    assert_eq!(json_of(&r)["code"], "KEY_ERROR");
}
