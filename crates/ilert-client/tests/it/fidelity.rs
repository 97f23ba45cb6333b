//! Where the client meets ilert's variations: the incident model detected once per key (2026
//! accounts keep status updates at `/status-updates`), the team context header, and the Events
//! API's receipt, with or without a body.

use std::time::Duration;

use ilert_client::{ApiKey, Client, ClientConfig, Event, IncidentQuery, Page, RetryPolicy};
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::session;

fn client(server: &MockServer) -> Client {
    crate::capture::init();
    Client::new(ClientConfig {
        base_url: format!("{}/api", server.uri()),
        timeout: Duration::from_millis(800),
        retry: RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        },
        ..Default::default()
    })
    .unwrap()
}

fn probes(requests: &[Request], key: &str) -> usize {
    requests
        .iter()
        .filter(|r| r.url.path() == "/api/status-updates")
        .filter(|r| {
            r.headers
                .get("authorization")
                .is_some_and(|v| v == format!("Bearer {key}").as_str())
        })
        .count()
}

#[tokio::test]
async fn a_classic_account_is_asked_once_per_key_and_uses_incidents() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/status-updates"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"status": 404, "message": "not found", "code": "NOT_FOUND"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/incidents"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": 1, "summary": "a"}])))
        .mount(&server)
        .await;
    let c = client(&server);
    let (a, b) = (
        c.session(ApiKey::new("key-a").unwrap()),
        c.session(ApiKey::new("key-b").unwrap()),
    );
    for _ in 0..3 {
        let list = a.list_incidents(&IncidentQuery::default()).await.unwrap();
        assert_eq!(list[0].summary.as_deref(), Some("a"));
    }
    b.list_incidents(&IncidentQuery::default()).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(probes(&requests, "key-a"), 1, "detected once for key a");
    assert_eq!(probes(&requests, "key-b"), 1, "and never shared with key b");
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.url.path() == "/api/incidents")
            .count(),
        4
    );
}

#[tokio::test]
async fn a_2026_account_gets_every_status_update_call_at_status_updates() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/status-updates"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": 7, "summary": "s"}])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/status-updates/7"))
        .and(query_param("include", "history"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"e1\"")
                .set_body_json(json!({"id": 7, "summary": "s", "status": "IDENTIFIED"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/status-updates/publish-info"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"publicSubscribers": 3})))
        .expect(1)
        .mount(&server)
        .await;
    // Anything sent to /incidents (the coordination record there) fails the test.
    Mock::given(path("/api/incidents"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let s = session(&server).await;
    let one = s.get_incident(7).await.unwrap();
    assert_eq!(one.etag.as_deref(), Some("\"e1\""));
    let list = s.list_incidents(&IncidentQuery::default()).await.unwrap();
    assert_eq!(list[0].id, 7);
    let body = ilert_client::IncidentWrite {
        summary: "s".into(),
        status: "IDENTIFIED".into(),
        ..Default::default()
    };
    s.incident_publish_info(&body).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let probes = requests
        .iter()
        .filter(|r| r.url.path() == "/api/status-updates" && r.url.query() == Some("max-results=1"))
        .count();
    assert_eq!(probes, 1);
}

#[tokio::test]
async fn a_failed_probe_is_an_error_and_is_not_remembered() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/status-updates"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"status": 403, "message": "bad key", "code": "KEY_ERROR"})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/status-updates"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/incidents"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let s = session(&server).await;
    let err = s
        .list_incidents(&IncidentQuery::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert!(s.list_incidents(&IncidentQuery::default()).await.is_ok());
}

#[tokio::test]
async fn a_team_context_is_sent_as_x_team_context_only_where_asked() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/escalation-policies"))
        .and(header("x-team-context", "501"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": 1}])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/escalation-policies"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": 1}, {"id": 2}])))
        .mount(&server)
        .await;
    let s = session(&server).await;
    let scoped = s
        .with_team_context(501)
        .list_escalation_policies(Page::new(0, 50))
        .await
        .unwrap();
    assert_eq!(scoped.len(), 1);
    let all = s.list_escalation_policies(Page::new(0, 50)).await.unwrap();
    assert_eq!(all.len(), 2, "the original session has no team context");
    let requests = server.received_requests().await.unwrap();
    assert!(requests[1].headers.get("x-team-context").is_none());
}

#[tokio::test]
async fn event_receipts_name_the_alert_and_an_empty_202_is_fine() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/events"))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({
            "alertKey": "k1", "alertUrl": "https://api.example/api/alerts/4712",
            "responseCode": "NEW_ALERT_CREATED"})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/events"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&server)
        .await;
    let s = session(&server).await;
    let event = Event {
        integration_key: "il1k".into(),
        event_type: "ALERT".into(),
        summary: "x".into(),
        ..Default::default()
    };
    let receipt = s.send_event(&event).await.unwrap();
    assert_eq!(receipt.alert_id(), Some(4712));
    assert_eq!(receipt.alert_key.as_deref(), Some("k1"));
    assert_eq!(receipt.response_code.as_deref(), Some("NEW_ALERT_CREATED"));
    let empty = s.send_event(&event).await.unwrap();
    assert_eq!(empty, ilert_client::EventReceipt::default());
    assert_eq!(empty.alert_id(), None);
}
