//! What each role's key may do: stakeholders read, responders work alerts and incidents, users
//! also configure, admins also manage users.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::*;

/// (method, path, body) of writes from every area, each valid for an ADMIN.
fn configure() -> Vec<(Method, &'static str, Value)> {
    vec![
        (
            Method::POST,
            "/api/schedules",
            json!({"name": "S", "type": "STATIC", "shifts": [{"user": {"id": 10001}, "start": "2099-01-01T00:00:00Z", "end": "2099-01-02T00:00:00Z"}]}),
        ),
        (
            Method::PUT,
            "/api/schedules/7001/overrides",
            json!({"user": {"id": 10001}, "start": "2099-01-01T00:00:00Z", "end": "2099-01-02T00:00:00Z"}),
        ),
        (
            Method::POST,
            "/api/escalation-policies",
            json!({"name": "P", "escalationRules": [{"escalationTimeout": 5, "users": [{"id": 10001}]}]}),
        ),
        (Method::POST, "/api/services", json!({"name": "Svc"})),
        (
            Method::POST,
            "/api/status-pages",
            json!({"name": "Page", "visibility": "PRIVATE"}),
        ),
        (
            Method::POST,
            "/api/maintenance-windows",
            json!({"summary": "M", "start": "2099-01-01T00:00:00Z", "end": "2099-01-01T01:00:00Z", "services": [{"id": 801}]}),
        ),
        (
            Method::POST,
            "/api/alert-sources",
            json!({"name": "Src", "integrationType": "API", "escalationPolicy": {"id": 3101}}),
        ),
        (
            Method::POST,
            "/api/heartbeat-monitors",
            json!({"name": "HB", "intervalSec": 60}),
        ),
        (Method::POST, "/api/teams", json!({"name": "T"})),
    ]
}

fn work() -> Vec<(Method, &'static str, Value)> {
    vec![
        (Method::PUT, "/api/alerts/4722/accept", Value::Null),
        (Method::PUT, "/api/alerts/4723/resolve", Value::Null),
        (
            Method::PUT,
            "/api/alerts/4724/assign?user=10001",
            Value::Null,
        ),
        (
            Method::POST,
            "/api/alerts/4719/responders",
            json!({"userId": 10001}),
        ),
        (
            Method::POST,
            "/api/alerts",
            json!({"summary": "A", "alertSource": {"id": 202543}}),
        ),
        (
            Method::POST,
            "/api/alerts/4722/actions",
            json!({"alertActionId": "jira-create-issue"}),
        ),
        (
            Method::POST,
            "/api/incidents",
            json!({"summary": "I", "status": "INVESTIGATING", "affectedServices": [{"impact": "DEGRADED", "service": {"id": 806}}]}),
        ),
    ]
}

async fn send(
    s: &Server,
    key: &str,
    (method, path, body): &(Method, &'static str, Value),
) -> Reply {
    let body = (!body.is_null()).then(|| body.to_string());
    s.request(method.clone(), path, Some(key), body.as_deref())
        .await
}

#[tokio::test]
async fn the_role_matrix() {
    let s = start().await;
    // Stakeholders: 403 on every write, and the state stays as it was.
    for call in work().iter().chain(configure().iter()) {
        let r = send(&s, STAKEHOLDER, call).await;
        let message = assert_error(&r, 403, "FORBIDDEN");
        assert!(
            message.contains("STAKEHOLDER"),
            "{} {}: {message}",
            call.0,
            call.1
        );
    }
    assert_eq!(s.alert(4722).await["status"], "PENDING");
    // Responders: configuration is 403, alert and incident work is allowed.
    for call in configure() {
        assert_error(&send(&s, RESPONDER, &call).await, 403, "FORBIDDEN");
    }
    for call in work() {
        let r = send(&s, RESPONDER, &call).await;
        assert!(
            r.status.is_success(),
            "{} {}: {} {}",
            call.0,
            call.1,
            r.status,
            r.body
        );
    }
    // Users configure; only admins manage users.
    for call in configure() {
        let r = send(&s, USER, &call).await;
        assert!(
            r.status.is_success(),
            "{} {}: {} {}",
            call.0,
            call.1,
            r.status,
            r.body
        );
    }
    let kai = json!({"firstName": "Kai", "lastName": "Berg", "email": "kai@example.com"});
    assert_error(&s.post("/api/users", USER, &kai).await, 403, "FORBIDDEN");
    assert_error(&s.delete("/api/users/10013", USER).await, 403, "FORBIDDEN");
    let created = s.post("/api/users", ADMIN, &kai).await;
    assert_eq!(created.status, 201);
    assert!(
        created.headers["location"]
            .to_str()
            .unwrap()
            .ends_with(&created.body["id"].to_string())
    );
    assert_eq!(created.body["role"], "RESPONDER");
    // Everyone reads, searches, previews and edits their own profile.
    for key in [STAKEHOLDER, RESPONDER, USER, ADMIN] {
        s.ok("/api/alerts?max-results=1", key).await;
        s.ok("/api/on-calls", key).await;
        s.ok(
            "/api/reports/alerts/summary?from=2026-01-01T00:00:00Z&until=2026-02-01T00:00:00Z",
            key,
        )
        .await;
        assert_eq!(
            s.post(
                "/api/users/search-email",
                key,
                &json!({"email": "maya.chen@example.com"})
            )
            .await
            .status,
            200
        );
    }
    let me = json!({"firstName": "Sam", "lastName": "Rivera", "email": "sam.rivera@example.com", "role": "ADMIN"});
    let r = s.put_json("/api/users/current", STAKEHOLDER, &me).await;
    assert_eq!(
        (r.status.as_u16(), r.body["role"].as_str()),
        (200, Some("STAKEHOLDER"))
    );
    let r = s.put_json("/api/users/10004", STAKEHOLDER, &me).await;
    assert_eq!(r.body["role"], "STAKEHOLDER", "nobody promotes themselves");
    assert_error(
        &s.put_json("/api/users/10002", STAKEHOLDER, &me).await,
        403,
        "FORBIDDEN",
    );
    let promoted = s.put_json("/api/users/10004", ADMIN, &me).await;
    assert_eq!(promoted.body["role"], "ADMIN", "an admin may");
}
