//! ilert-client against a local fake ilert (wiremock): requests are asserted exactly (method, path,
//! query, headers) and every error class is mapped.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#[path = "../../../../tests/support/capture.rs"]
mod capture;
mod fidelity;
mod guard;
mod resources;
mod tls;

use std::time::Duration;

use ilert_client::{
    AlertQuery, AlertStatus, ApiError, ApiKey, Client, ClientConfig, RetryPolicy, Session,
};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn fast_retry() -> RetryPolicy {
    // Every test builds its client with this or `session`: capture its logs from the start.
    capture::init();
    RetryPolicy {
        max_retries: 2,
        rate_limit_delay: Duration::from_millis(10),
        server_error_delay: Duration::from_millis(10),
    }
}

pub(crate) async fn session(server: &MockServer) -> Session {
    let config = ClientConfig {
        base_url: format!("{}/api/", server.uri()),
        timeout: Duration::from_millis(800),
        retry: fast_retry(),
        ..Default::default()
    };
    Client::new(config)
        .unwrap()
        .session(ApiKey::new("test-key-1").unwrap())
}

fn alert(id: i64, status: &str) -> serde_json::Value {
    json!({"id": id, "summary": "Disk full", "status": status, "priority": "HIGH",
           "reportTime": "2026-11-23T10:00:00.000Z", "responders": [], "newField": {"x": 1}})
}

#[tokio::test]
async fn list_alerts_sends_spec_names_bearer_and_user_agent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/alerts"))
        .and(header("authorization", "Bearer test-key-1"))
        .and(header("accept", "application/json"))
        .and(header("user-agent", concat!("ilert-mcp/", env!("CARGO_PKG_VERSION"))))
        .and(|req: &Request| {
            req.url.query()
                == Some("states=PENDING&states=ACCEPTED&sources=3&responders=9&from=2026-11-01T00%3A00%3A00Z&start-index=100&max-results=100")
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([alert(1, "PENDING"), alert(2, "ACCEPTED")])))
        .expect(1)
        .mount(&server)
        .await;
    let query = AlertQuery {
        states: vec![AlertStatus::Pending, AlertStatus::Accepted],
        sources: vec![3],
        responders: vec![9],
        from: Some("2026-11-01T00:00:00Z".into()),
        start_index: 100,
        max_results: 1000,
        ..Default::default()
    };
    let alerts = session(&server).await.list_alerts(&query).await.unwrap();
    assert_eq!(alerts.iter().map(|a| a.id).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(alerts[1].status, Some(AlertStatus::Accepted));
}

#[tokio::test]
async fn an_alert_page_reads_as_summaries_equal_to_the_full_alerts() {
    let server = MockServer::start().await;
    let mut escaped = alert(3, "PENDING");
    escaped["summary"] = json!("Disk \"full\" on\ndb-1 · ü");
    escaped["alertSource"] = json!({"id": 7, "name": "Prom\\etheus", "iconUrl": "x"});
    escaped["responders"] = json!([{"user": {"id": 9, "firstName": "Ana", "lastName": "Lima"},
                                     "status": "ACCEPTED", "acceptedAt": null}]);
    escaped["details"] = json!("long\ntext");
    let body = json!([alert(1, "PENDING"), escaped, {"id": 4, "status": "SNOOZED"}]);
    Mock::given(method("GET"))
        .and(path("/api/alerts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(2)
        .mount(&server)
        .await;
    let api = session(&server).await;
    let query = AlertQuery::default();
    let full = api.list_alerts(&query).await.unwrap();
    let page = api.list_alert_page(&query).await.unwrap();
    let summaries = page.summaries().unwrap();
    let from_full: Vec<ilert_client::AlertSummary<'_>> = full.iter().map(Into::into).collect();
    assert_eq!(summaries, from_full);
    assert_eq!(
        summaries[1].summary.as_deref(),
        Some("Disk \"full\" on\ndb-1 · ü")
    );
    assert_eq!(summaries[1].responders[0].user.display_name(), "Ana Lima");
    assert_eq!(
        summaries[2].status,
        Some(AlertStatus::Other("SNOOZED".into()))
    );
}

#[tokio::test]
async fn an_alert_page_that_is_not_json_is_a_decode_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/alerts"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_bytes(b"[{\"id\": 1, \"summary\": \"\xff\"}]".to_vec()),
        )
        .mount(&server)
        .await;
    let page = session(&server)
        .await
        .list_alert_page(&AlertQuery::default())
        .await
        .unwrap();
    let err = page.summaries().unwrap_err();
    assert!(
        matches!(&err, ApiError::Decode { message } if message.contains("not UTF-8")),
        "{err:?}"
    );
}

#[tokio::test]
async fn accept_and_resolve_are_puts_on_the_alert() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/alerts/42/accept"))
        .and(header("authorization", "Bearer test-key-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(alert(42, "ACCEPTED")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/alerts/42/resolve"))
        .respond_with(ResponseTemplate::new(200).set_body_json(alert(42, "RESOLVED")))
        .expect(1)
        .mount(&server)
        .await;
    let s = session(&server).await;
    assert_eq!(
        s.accept_alert(42).await.unwrap().status,
        Some(AlertStatus::Accepted)
    );
    assert_eq!(
        s.resolve_alert(42).await.unwrap().status,
        Some(AlertStatus::Resolved)
    );
}

#[tokio::test]
async fn get_alert_passes_includes_and_current_user_decodes() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/alerts/7"))
        .and(|req: &Request| {
            req.url.query() == Some("include=nextEscalationUser&include=escalationRules")
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(alert(7, "PENDING")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/users/current"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 5, "firstName": "Jonas", "lastName": "Weber", "email": "j@example.com", "role": "USER"})))
        .mount(&server)
        .await;
    let s = session(&server).await;
    let includes = [
        ilert_client::AlertInclude::NextEscalationUser,
        ilert_client::AlertInclude::EscalationRules,
    ];
    assert_eq!(s.get_alert(7, &includes).await.unwrap().id, 7);
    assert_eq!(
        s.current_user().await.unwrap().display_name(),
        "Jonas Weber"
    );
}

async fn error_for(status: u16, body: serde_json::Value) -> ApiError {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&server)
        .await;
    session(&server).await.current_user().await.unwrap_err()
}

#[tokio::test]
async fn errors_are_classified_by_status_and_code() {
    let e = error_for(
        401,
        json!({"status": 401, "message": "missing", "code": "UNAUTHORIZED"}),
    )
    .await;
    assert_eq!(
        e,
        ApiError::Unauthorized {
            message: "missing".into()
        }
    );
    assert!(e.is_auth());
    let e = error_for(
        403,
        json!({"status": 403, "message": "bad key", "code": "KEY_ERROR"}),
    )
    .await;
    assert_eq!(
        e,
        ApiError::InvalidKey {
            message: "bad key".into()
        }
    );
    let e = error_for(
        403,
        json!({"status": 403, "message": "role", "code": "FORBIDDEN"}),
    )
    .await;
    assert!(matches!(e, ApiError::Forbidden { .. }) && !e.is_auth());
    let e = error_for(
        404,
        json!({"status": 404, "message": "Alert 9 not found", "code": "NOT_FOUND"}),
    )
    .await;
    assert_eq!(
        e,
        ApiError::NotFound {
            message: "Alert 9 not found".into()
        }
    );
    let e = error_for(
        400,
        json!({"status": 400, "message": "max-results", "code": "BAD_REQUEST"}),
    )
    .await;
    assert_eq!(e.status(), Some(400));
    assert!(matches!(e, ApiError::Rejected { .. }));
    let e = error_for(500, json!({"status": 500, "message": "boom"})).await;
    assert_eq!(
        e,
        ApiError::Upstream {
            status: 500,
            message: "boom".into()
        }
    );
}

#[tokio::test]
async fn rate_limit_is_retried_for_gets_then_reported() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .set_body_json(json!({"status": 429, "message": "slow down"})),
        )
        .expect(3)
        .mount(&server)
        .await;
    let e = session(&server).await.current_user().await.unwrap_err();
    assert_eq!(
        e,
        ApiError::RateLimited {
            message: "slow down".into()
        }
    );
}

#[tokio::test]
async fn gateway_errors_recover_on_retry() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_body_json(alert(3, "ACCEPTED")))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(session(&server).await.accept_alert(3).await.unwrap().id, 3);
}

#[tokio::test]
async fn validation_errors_are_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"message": "bad"})))
        .expect(1)
        .mount(&server)
        .await;
    assert!(session(&server).await.current_user().await.is_err());
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", "http://127.0.0.1:9/steal"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let e = session(&server).await.current_user().await.unwrap_err();
    assert_eq!(e.status(), Some(302));
    assert!(e.message().contains("redirect"));
}

#[tokio::test]
async fn slow_upstream_times_out_and_down_upstream_is_a_transport_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_secs(3))
                .set_body_json(json!({"id": 1})),
        )
        .mount(&server)
        .await;
    let e = session(&server).await.current_user().await.unwrap_err();
    assert!(
        matches!(
            e,
            ApiError::Transport {
                kind: ilert_client::TransportKind::Timeout,
                ..
            }
        ),
        "{e:?}"
    );

    // A port nothing listens on: bind, learn the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = ClientConfig {
        base_url: format!("http://127.0.0.1:{port}/api"),
        retry: fast_retry(),
        ..Default::default()
    };
    let s = Client::new(config)
        .unwrap()
        .session(ApiKey::new("secret-key-xyz").unwrap());
    let e = s.current_user().await.unwrap_err();
    assert!(
        matches!(
            e,
            ApiError::Transport {
                kind: ilert_client::TransportKind::Connect,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(!format!("{e} {e:?}").contains("secret-key-xyz"));
}

#[tokio::test]
async fn undecodable_success_is_a_decode_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>login</html>"))
        .mount(&server)
        .await;
    let e = session(&server).await.current_user().await.unwrap_err();
    assert!(matches!(e, ApiError::Decode { .. }));
}

#[test]
fn bad_base_urls_are_refused() {
    for base in ["not a url", "ftp://example.com/api", "file:///tmp"] {
        let config = ClientConfig {
            base_url: base.into(),
            ..Default::default()
        };
        assert!(Client::new(config).is_err(), "{base}");
    }
}
