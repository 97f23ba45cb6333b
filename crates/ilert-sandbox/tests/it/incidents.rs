//! Incidents (status updates): ETag and If-Match with 412, history, services following the
//! impact, publish-info, and ilert's 2026 model where they live at `/status-updates`.

use ilert_sandbox::IncidentModel;
use serde_json::{Value, json};

use crate::common::*;

fn update(status: &str, message: &str, impacts: &[(i64, &str)]) -> Value {
    json!({"summary": "Elevated checkout errors", "status": status, "message": message, "sendNotification": true,
        "affectedServices": impacts.iter().map(|(id, impact)| json!({"impact": impact, "service": {"id": id}})).collect::<Vec<_>>()})
}

async fn service_status(s: &Server, id: i64) -> String {
    s.ok(&format!("/api/services/{id}"), ADMIN).await["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_seeded_incident_tells_its_story() {
    let s = start().await;
    let r = s
        .get(
            "/api/incidents/9004?include=history&include=affectedTeams&include=subscribed",
            STAKEHOLDER,
        )
        .await;
    assert_eq!(r.status, 200);
    let i = r.body;
    assert_eq!(i["summary"], "Elevated checkout errors");
    assert_eq!(i["status"], "IDENTIFIED");
    assert_eq!(i["subscribed"], true, "Sam subscribed");
    assert_eq!(i["affectedServices"][0]["impact"], "PARTIAL_OUTAGE");
    assert_eq!(
        i["affectedServices"][0]["service"]["status"],
        "PARTIAL_OUTAGE"
    );
    assert_eq!(i["affectedTeams"], json!([{"id": 501, "name": "Checkout"}]));
    let history = i["history"].as_array().unwrap();
    let statuses: Vec<&str> = history
        .iter()
        .map(|h| h["incidentStatus"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["INVESTIGATING", "IDENTIFIED", "IDENTIFIED"]);
    assert_eq!(
        history[0]["creator"],
        json!({"id": 10002, "firstName": "Jonas", "lastName": "Weber"})
    );
    assert!(history.iter().all(|h| h["id"].is_string()));
    assert!(r.headers["etag"].to_str().unwrap().starts_with('"'));
    let open = s
        .ok(
            "/api/incidents?states=INVESTIGATING&states=IDENTIFIED&states=MONITORING",
            ADMIN,
        )
        .await;
    assert_eq!(ids(&open), [9004]);
    assert_eq!(
        ids(&s.ok("/api/incidents?max-results=100", ADMIN).await),
        [9004, 9003, 9002, 9001]
    );
    assert_eq!(
        ids(&s.ok("/api/incidents?services=804", ADMIN).await),
        [9001]
    );
    // A classic account has no `/status-updates`.
    assert_eq!(
        s.get("/api/status-updates?max-results=100", ADMIN)
            .await
            .status,
        404
    );
    // Past status updates left outages in the services' uptime.
    let search = s.ok("/api/services/804?include=uptime", ADMIN).await;
    assert_eq!(search["uptime"]["outages"][0]["status"], "PARTIAL_OUTAGE");
    assert!(
        search["uptime"]["uptimePercentage"]["uptimePercentage"]["p30"]
            .as_f64()
            .unwrap()
            < 100.0
    );
}

#[tokio::test]
async fn if_match_guards_updates_and_history_grows() {
    let s = start().await;
    let first = s.get("/api/incidents/9004", RESPONDER).await;
    let etag = first.headers["etag"].to_str().unwrap().to_owned();
    // Someone else updates first, without If-Match: last write wins.
    let r = s
        .put_json(
            "/api/incidents/9004",
            USER,
            &update(
                "IDENTIFIED",
                "Card payments recovering.",
                &[(801, "DEGRADED"), (802, "DEGRADED")],
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(service_status(&s, 801).await, "DEGRADED");
    // The stale ETag now fails, and changes nothing.
    let stale = s
        .send_with(
            reqwest::Method::PUT,
            "/api/incidents/9004",
            RESPONDER,
            Some(&update("RESOLVED", "x", &[(801, "OPERATIONAL")])),
            &[("If-Match", &etag)],
        )
        .await;
    let message = assert_error(&stale, 412, "PRECONDITION_FAILED");
    assert!(message.contains("ETag"), "{message}");
    assert_eq!(
        s.ok("/api/incidents/9004", ADMIN).await["status"],
        "IDENTIFIED"
    );
    // The fresh one works; weak and quoted forms compare equal.
    let fresh = s.get("/api/incidents/9004", RESPONDER).await.headers["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let r = s
        .send_with(
            reqwest::Method::PUT,
            "/api/incidents/9004",
            RESPONDER,
            Some(&update(
                "MONITORING",
                "Failover done; monitoring.",
                &[(801, "DEGRADED"), (802, "OPERATIONAL")],
            )),
            &[("If-Match", &format!("W/{fresh}"))],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_ne!(r.headers["etag"].to_str().unwrap(), fresh);
    assert_eq!(service_status(&s, 802).await, "OPERATIONAL");
    // Resolving returns every service to OPERATIONAL and sets resolvedOn.
    let resolved = s
        .put_json(
            "/api/incidents/9004",
            RESPONDER,
            &update("RESOLVED", "All payments work again.", &[(801, "DEGRADED")]),
        )
        .await
        .body;
    assert_eq!(resolved["status"], "RESOLVED");
    assert!(resolved["resolvedOn"].is_string());
    assert_eq!(service_status(&s, 801).await, "OPERATIONAL");
    let history = s.ok("/api/incidents/9004?include=history", ADMIN).await["history"].clone();
    let last: Vec<(&str, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .skip(3)
        .map(|h| {
            (
                h["incidentStatus"].as_str().unwrap(),
                h["content"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        last,
        [
            ("IDENTIFIED", "Card payments recovering."),
            ("MONITORING", "Failover done; monitoring."),
            ("RESOLVED", "All payments work again."),
        ]
    );
    assert_eq!(history[5]["creator"]["id"], 10003);
    // A changed service invalidates the ETag too.
    let tag = s.get("/api/incidents/9004", RESPONDER).await.headers["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    s.put_json(
        "/api/services/801",
        USER,
        &json!({"name": "Checkout", "alias": "checkout", "status": "MAJOR_OUTAGE"}),
    )
    .await;
    let r = s
        .send_with(
            reqwest::Method::PUT,
            "/api/incidents/9004",
            RESPONDER,
            Some(&update("RESOLVED", "x", &[(801, "DEGRADED")])),
            &[("If-Match", &tag)],
        )
        .await;
    assert_error(&r, 412, "PRECONDITION_FAILED");
}

#[tokio::test]
async fn new_incidents_and_the_publish_preview() {
    let s = start().await;
    let body = json!({"summary": "Search is slow", "status": "INVESTIGATING", "message": "Looking into it.",
        "affectedServices": [{"impact": "MAJOR_OUTAGE", "service": {"id": 804}}]});
    let preview = s
        .post("/api/incidents/publish-info", STAKEHOLDER, &body)
        .await;
    assert_eq!(preview.status, 200);
    assert_eq!(
        preview.body,
        json!({"statusPagesInfo": {"id": 2101, "label": "Acme Shop Status"}, "privateStatusPages": 0, "publicStatusPages": 1,
            "privateSubscribers": 0, "publicSubscribers": 1284})
    );
    let checkout = s
        .post(
            "/api/incidents/publish-info",
            STAKEHOLDER,
            &update("INVESTIGATING", "x", &[(801, "DEGRADED")]),
        )
        .await
        .body;
    assert_eq!(checkout["privateStatusPages"], 1);
    assert_eq!(checkout["publicStatusPages"], 1);
    assert_eq!(
        checkout["privateSubscribers"], 3,
        "Customer Care (Sam, Grace) and Maya"
    );
    let created = s.post("/api/incidents", RESPONDER, &body).await;
    assert_eq!(created.status, 200, "POST answers 200, as ilert documents");
    assert!(created.headers.contains_key("etag"));
    assert_eq!(service_status(&s, 804).await, "MAJOR_OUTAGE");
    let page = s.ok("/api/status-pages/2101", STAKEHOLDER).await;
    assert_eq!(
        page["status"], "MAJOR_OUTAGE",
        "a page shows its worst service"
    );
    let id = created.body["id"].as_i64().unwrap();
    assert_eq!(
        s.ok(&format!("/api/incidents/{id}?include=history"), ADMIN)
            .await["history"][0]["content"],
        "Looking into it."
    );
    let r = s.post("/api/incidents", STAKEHOLDER, &body).await;
    assert_error(&r, 403, "FORBIDDEN");
    for bad in [
        json!({"summary": "x", "status": "INVESTIGATING"}),
        json!({"summary": "x", "status": "PANIC", "affectedServices": [{"impact": "DEGRADED", "service": {"id": 804}}]}),
        json!({"summary": "x", "status": "INVESTIGATING", "affectedServices": [{"impact": "DEGRADED", "service": {"id": 1}}]}),
        json!({"status": "INVESTIGATING", "affectedServices": [{"impact": "DEGRADED", "service": {"id": 804}}]}),
    ] {
        assert_error(
            &s.post("/api/incidents", RESPONDER, &bad).await,
            400,
            "BAD_REQUEST",
        );
    }
}

/// `--incident-model 2026`: status updates at `/status-updates`, the same objects a classic
/// account serves at `/incidents`; `/incidents` is the coordination record, read-only here.
#[tokio::test]
async fn the_2026_model_moves_status_updates_to_their_own_path() {
    let classic = start().await;
    let s = start_model(IncidentModel::Coordination2026).await;
    // Seeded relative to each sandbox's start, so compare all but the times.
    let shape = |list: Value| -> Vec<(Value, Value, Value, Value)> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|i| {
                let services = i["affectedServices"].as_array().unwrap().iter();
                let impacts = services.map(|a| json!([a["service"]["id"], a["impact"]]));
                (
                    i["id"].clone(),
                    i["summary"].clone(),
                    i["status"].clone(),
                    impacts.collect(),
                )
            })
            .collect()
    };
    assert_eq!(
        shape(s.ok("/api/status-updates?max-results=100", ADMIN).await),
        shape(classic.ok("/api/incidents?max-results=100", ADMIN).await)
    );
    assert_eq!(
        s.ok("/api/status-updates/9004?include=history", ADMIN)
            .await["summary"],
        "Elevated checkout errors"
    );
    let records = s.ok("/api/incidents", ADMIN).await;
    let record = records
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == 9004)
        .unwrap()
        .clone();
    assert_eq!(record["title"], "Elevated checkout errors");
    assert_eq!(record["status"], "DECLARED");
    assert!(
        record.get("summary").is_none(),
        "not a status update: {record}"
    );
    assert_eq!(s.ok("/api/incidents/9004", ADMIN).await, record);
    // A status update sent to /incidents goes nowhere, and the status update is unchanged.
    let r = s
        .put_json(
            "/api/incidents/9004",
            ADMIN,
            &update("RESOLVED", "x", &[(801, "DEGRADED")]),
        )
        .await;
    assert_eq!(r.status, 405);
    let r = s
        .put_json(
            "/api/status-updates/9004",
            RESPONDER,
            &update("MONITORING", "Watching.", &[(801, "DEGRADED")]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        s.ok("/api/status-updates/9004", ADMIN).await["status"],
        "MONITORING"
    );
}
