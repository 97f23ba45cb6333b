//! The configuration resources beyond alerts: users, teams, schedules, escalation policies,
//! alert sources, heartbeat monitors, services and status pages.

use reqwest::Method;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn users_list_get_and_search() {
    let s = start().await;
    let all = s.ok("/api/users", STAKEHOLDER).await;
    assert_eq!(all.as_array().unwrap().len(), 14);
    let zones: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["timezone"].as_str().unwrap())
        .collect();
    for zone in [
        "Asia/Tokyo",
        "Australia/Sydney",
        "America/Sao_Paulo",
        "Asia/Kolkata",
        "America/Los_Angeles",
        "Europe/London",
    ] {
        assert!(zones.contains(&zone), "{zone}");
    }
    assert_eq!(
        ids(&s.ok("/api/users?start-index=12&max-results=5", ADMIN).await),
        [10013, 10014]
    );
    assert_eq!(s.ok("/api/users/yuki.tanaka", ADMIN).await["id"], 10007);
    assert!(
        s.ok("/api/users/10007", ADMIN)
            .await
            .get("region")
            .is_none(),
        "no region outside ilert's list"
    );
    let found = s
        .post(
            "/api/users/search-email",
            STAKEHOLDER,
            &json!({"email": " ANA.SOUZA@example.com"}),
        )
        .await;
    assert_eq!(found.body["id"], 10009);
    assert_error(
        &s.post("/api/users/search-email", STAKEHOLDER, &json!({}))
            .await,
        400,
        "BAD_REQUEST",
    );
    assert_error(
        &s.delete("/api/users/10001", ADMIN).await,
        400,
        "BAD_REQUEST",
    );
    let r = s.delete("/api/users/10012", ADMIN).await;
    assert!(assert_error(&r, 400, "BAD_REQUEST").contains("Storefront weekly"));
    assert_eq!(s.delete("/api/users/10013", ADMIN).await.status, 204);
    assert_error(&s.get("/api/users/10013", ADMIN).await, 404, "NOT_FOUND");
}

#[tokio::test]
async fn teams_and_members() {
    let s = start().await;
    let teams = s.ok("/api/teams", ADMIN).await;
    assert_eq!(ids(&teams), [501, 502, 503, 504]);
    assert_eq!(teams[0]["members"][0]["role"], "ADMIN");
    assert_eq!(
        teams[0]["members"][0]["user"]["email"],
        "jonas.weber@example.com"
    );
    assert_eq!(ids(&s.ok("/api/teams?members=10011", ADMIN).await), [502]);
    assert_error(
        &s.get("/api/teams?members=1&members=2", ADMIN).await,
        400,
        "BAD_REQUEST",
    );
    let r = s
        .post(
            "/api/teams/503/members",
            USER,
            &json!({"user": {"id": 10011}, "role": "RESPONDER"}),
        )
        .await;
    assert_eq!(r.body["user"]["id"], 10011);
    assert_eq!(
        ids(&s.ok("/api/teams?members=10011", ADMIN).await),
        [502, 503]
    );
    assert_error(
        &s.post("/api/teams/503/members", USER, &json!({"user": {"id": 1}}))
            .await,
        404,
        "NOT_FOUND",
    );
    assert_error(
        &s.post(
            "/api/teams",
            USER,
            &json!({"name": "x", "members": [{"user": {"id": 1}}]}),
        )
        .await,
        400,
        "BAD_REQUEST",
    );
}

#[tokio::test]
async fn schedules_validate_and_protect_their_users() {
    let s = start().await;
    let list = s.ok("/api/schedules?include=scheduleLayers", ADMIN).await;
    assert_eq!(ids(&list), [7001, 7002, 7003, 7004]);
    let layers = list[0]["scheduleLayers"].as_array().unwrap();
    let names: Vec<&str> = layers.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Europe", "Americas", "APAC"]);
    assert_eq!(
        layers[1]["restrictions"][0],
        json!({"from": {"dayOfWeek": "MONDAY", "time": "16:00"}, "to": {"dayOfWeek": "TUESDAY", "time": "00:00"}})
    );
    assert!(
        list[3].get("scheduleLayers").is_none(),
        "STATIC schedules have no layers"
    );
    assert_eq!(
        ids(&s.ok("/api/schedules?start-index=3", ADMIN).await),
        [7004]
    );
    for bad in [
        json!({"name": "x", "type": "RECURRING", "scheduleLayers": [{"startsOn": "2026-01-01T00:00:00Z", "users": [{"id": 10001}], "rotation": "weekly"}]}),
        json!({"name": "x", "type": "RECURRING", "scheduleLayers": [{"startsOn": "2026-01-01T00:00:00Z", "users": [], "rotation": "P7D"}]}),
        json!({"name": "x", "type": "RECURRING", "timezone": "Mars/Olympus", "scheduleLayers": [{"startsOn": "2026-01-01T00:00:00Z", "users": [{"id": 10001}], "rotation": "P7D"}]}),
        json!({"name": "x", "type": "RECURRING", "scheduleLayers": [{"startsOn": "2026-01-01T00:00:00Z", "users": [{"id": 10001}], "rotation": "P7D",
            "restrictions": [{"from": {"dayOfWeek": "FUNDAY", "time": "08:00"}, "to": {"dayOfWeek": "MONDAY", "time": "09:00"}}]}]}),
        json!({"name": "x", "type": "RECURRING", "scheduleLayers": [{"startsOn": "2026-01-01T00:00:00Z", "users": [{"id": 1}], "rotation": "P7D"}]}),
        json!({"name": "x", "type": "STATIC", "shifts": [{"user": {"id": 10001}, "start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}]}),
    ] {
        assert_error(
            &s.post("/api/schedules", USER, &bad).await,
            400,
            "BAD_REQUEST",
        );
    }
    let gaps = json!({"name": "Gappy", "type": "STATIC", "shifts": [
        {"user": {"id": 10001}, "start": "2099-01-01T00:00:00Z", "end": "2099-01-02T00:00:00Z"},
        {"user": {"id": 10002}, "start": "2099-01-03T00:00:00Z", "end": "2099-01-04T00:00:00Z"}]});
    assert_error(
        &s.post("/api/schedules?abort-on-gaps=true", USER, &gaps)
            .await,
        400,
        "BAD_REQUEST",
    );
    assert_eq!(s.post("/api/schedules", USER, &gaps).await.status, 201);
    let r = s.delete("/api/schedules/7001", USER).await;
    assert!(assert_error(&r, 400, "BAD_REQUEST").contains("Checkout on-call"));
}

#[tokio::test]
async fn escalation_policies_resolve_and_levels() {
    let s = start().await;
    let resolve = |key: &str| format!("/api/escalation-policies/resolve?routing-key={key}");
    assert_eq!(s.ok(&resolve("CHECKOUT"), STAKEHOLDER).await["id"], 3101);
    assert_eq!(
        s.ok(&resolve("nope,platform,storefront"), STAKEHOLDER)
            .await["id"],
        3102
    );
    assert_eq!(s.ok(&resolve("il:3103"), STAKEHOLDER).await["id"], 3103);
    assert_eq!(
        s.ok(&resolve("il:%7B%22id%22%3A3101%7D"), STAKEHOLDER)
            .await["id"],
        3101
    );
    assert_error(
        &s.get(&resolve("nope"), STAKEHOLDER).await,
        404,
        "NOT_FOUND",
    );
    assert_error(
        &s.get("/api/escalation-policies/resolve", STAKEHOLDER).await,
        400,
        "BAD_REQUEST",
    );
    let level = s
        .put_json(
            "/api/escalation-policies/3102/levels/1",
            USER,
            &json!({"escalationTimeout": 20, "user": {"id": 10010}}),
        )
        .await;
    assert_eq!(level.status, 200);
    assert_eq!(
        level.body,
        json!({"escalationTimeout": 20, "users": [{"id": 10010, "firstName": "Arjun", "lastName": "Mehta"}], "schedules": [], "teams": []})
    );
    let policy = s.ok("/api/escalation-policies/3102", ADMIN).await;
    assert_eq!(policy["escalationRules"][1]["users"][0]["id"], 10010);
    let taken = json!({"name": "Dup", "routingKey": "checkout", "escalationRules": [{"escalationTimeout": 1, "users": [{"id": 10001}]}]});
    assert_error(
        &s.post("/api/escalation-policies", USER, &taken).await,
        400,
        "BAD_REQUEST",
    );
    let created = s.post("/api/escalation-policies", USER, &json!({"name": "Night", "escalationRules": [{"escalationTimeout": 1, "users": [{"id": 10001}]}]})).await;
    assert!(
        created.headers["location"]
            .to_str()
            .unwrap()
            .starts_with("/api/escalation-policies/")
    );
}

#[tokio::test]
async fn alert_sources_by_id_or_key() {
    let s = start().await;
    let sources = s.ok("/api/alert-sources", ADMIN).await;
    let types: Vec<&str> = sources
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["integrationType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "PROMETHEUS",
            "DATADOG",
            "API",
            "GRAFANA",
            "SENTRY",
            "HEARTBEAT2",
            "EMAIL2"
        ]
    );
    assert!(
        sources
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["integrationKey"].as_str().unwrap().starts_with("il1"))
    );
    let by_key = s
        .ok("/api/alert-sources/il1graf81e6d2b97c05a4f3", ADMIN)
        .await;
    assert_eq!(by_key["id"], 202544);
    assert_eq!(
        s.ok("/api/alert-sources/202541", ADMIN).await["status"],
        "PENDING"
    );
    assert_eq!(
        s.ok("/api/alert-sources/202544", ADMIN).await["status"],
        "ALL_RESOLVED"
    );
    let created = s.post("/api/alert-sources", USER, &json!({"name": "Uptime", "integrationType": "UPTIMEROBOT", "escalationPolicy": {"id": 3102}})).await;
    assert_eq!(created.status, 201);
    let key = created.body["integrationKey"].as_str().unwrap().to_owned();
    assert!(key.starts_with("il1upti"), "{key}");
    let r = s
        .event(&json!({"integrationKey": key, "eventType": "ALERT", "summary": "Site down"}))
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(
        s.ok(&format!("/api/alert-sources/{key}"), ADMIN).await["status"],
        "PENDING"
    );
    assert_error(
        &s.post(
            "/api/alert-sources",
            USER,
            &json!({"name": "x", "integrationType": "API", "escalationPolicy": {"id": 1}}),
        )
        .await,
        400,
        "BAD_REQUEST",
    );
    assert_error(&s.post("/api/alert-sources", USER, &json!({"name": "x", "integrationType": "API", "escalationPolicy": {"id": 3101}, "alertCreation": "SOMETIMES"})).await, 400, "BAD_REQUEST");
}

#[tokio::test]
async fn heartbeat_monitors_page_by_cursor_and_take_pings() {
    let s = start().await;
    let first = s.get("/api/heartbeat-monitors?max-results=2", ADMIN).await;
    assert_eq!(ids(&first.body), [1101, 1102]);
    let cursor = first.headers["next-cursor"].to_str().unwrap().to_owned();
    let second = s
        .get(
            &format!("/api/heartbeat-monitors?max-results=2&cursor={cursor}"),
            ADMIN,
        )
        .await;
    assert_eq!(ids(&second.body), [1103]);
    assert!(!second.headers.contains_key("next-cursor"), "the last page");
    let states: Vec<&str> = first
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["HEALTHY", "OVERDUE"]);
    assert_error(
        &s.get("/api/heartbeat-monitors?cursor=abc", ADMIN).await,
        400,
        "BAD_REQUEST",
    );
    let m = s
        .ok(
            "/api/heartbeat-monitors/1102?include=integrationKey&include=integrationUrl",
            ADMIN,
        )
        .await;
    let url = m["integrationUrl"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&s.base) && url.ends_with(m["integrationKey"].as_str().unwrap()),
        "{url}"
    );
    let ping = s.client.get(&url).send().await.unwrap();
    assert_eq!(ping.status(), 202, "pings need no API key");
    assert_eq!(
        s.ok("/api/heartbeat-monitors/1102", ADMIN).await["state"],
        "HEALTHY"
    );
    s.clock.advance(61 * MINUTE);
    assert_eq!(
        s.ok("/api/heartbeat-monitors/1102", ADMIN).await["state"],
        "OVERDUE"
    );
    assert_eq!(
        s.request(Method::HEAD, "/api/pings/il1hbt-unknown", None, None)
            .await
            .status,
        404
    );
    let created = s
        .post(
            "/api/heartbeat-monitors",
            USER,
            &json!({"name": "New", "intervalSec": 60}),
        )
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.body["state"], "UNKNOWN");
    let again = s
        .post(
            "/api/heartbeat-monitors?include=integrationKey",
            USER,
            &json!({"name": "new", "intervalSec": 90}),
        )
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(
        again.body["id"], created.body["id"],
        "409 answers with the existing monitor"
    );
    let id = created.body["id"].as_i64().unwrap();
    let before = s
        .ok(
            &format!("/api/heartbeat-monitors/{id}?include=integrationKey"),
            ADMIN,
        )
        .await["integrationKey"]
        .clone();
    let after = s
        .put_json(
            &format!("/api/heartbeat-monitors/{id}"),
            USER,
            &json!({"name": "New", "intervalSec": 120}),
        )
        .await
        .body;
    assert_ne!(
        after["integrationKey"], before,
        "a new interval issues a new key"
    );
}

#[tokio::test]
async fn services_and_status_pages() {
    let s = start().await;
    let services = s.ok("/api/services", STAKEHOLDER).await;
    assert_eq!(ids(&services), [801, 802, 803, 804, 805, 806]);
    let statuses: Vec<&str> = services
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "PARTIAL_OUTAGE",
            "DEGRADED",
            "OPERATIONAL",
            "OPERATIONAL",
            "OPERATIONAL",
            "OPERATIONAL"
        ]
    );
    assert_eq!(
        ids(&s
            .ok("/api/services?max-results=2&start-index=4", STAKEHOLDER)
            .await),
        [805, 806]
    );
    let checkout = s
        .ok(
            "/api/services/801?include=incidents&include=subscribed",
            STAKEHOLDER,
        )
        .await;
    assert_eq!(ids(&checkout["incidents"]), [9004]);
    assert_eq!(
        checkout["subscribed"], true,
        "Sam is in Customer Care, which subscribes"
    );
    let pages = s.ok("/api/status-pages", STAKEHOLDER).await;
    assert_eq!(ids(&pages), [2101, 2102]);
    assert_eq!(pages[0]["status"], "PARTIAL_OUTAGE");
    assert_eq!(pages[0]["visibility"], "PUBLIC");
    let page = s
        .ok(
            "/api/status-pages/2101?include=groups&include=uptime",
            STAKEHOLDER,
        )
        .await;
    assert_eq!(
        page["structure"]["elements"][0]["children"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert_eq!(page["groups"][1]["name"], "Accounts and API");
    assert!(
        page["services"][0]["uptime"]["uptimePercentage"]["uptimePercentage"]["p90"].is_number()
    );
    assert!(page["services"][0].get("alias").is_none());
    let bad = json!({"name": "x", "visibility": "PUBLIC", "services": [{"id": 801}], "structure": {"elements": [{"id": 802, "type": "SERVICE"}]}});
    assert_error(
        &s.post("/api/status-pages", USER, &bad).await,
        400,
        "BAD_REQUEST",
    );
    let outages = s.ok("/api/service-outages?service=801", STAKEHOLDER).await;
    assert_eq!(
        outages.as_array().unwrap().len(),
        2,
        "the deploy last week and today's, still open"
    );
    assert!(outages[1].get("until").is_none());
}
