//! The resource endpoints beyond alerts: exact requests, ETag and If-Match, 204, cursor paging,
//! and POSTs that are never retried.

use ilert_client::{
    AssignTarget, Event, IdOnly, IncidentWrite, ManualAlert, OverrideWrite, Page, ReportQuery,
    ResponderWrite,
};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::session;

#[tokio::test]
async fn incident_update_sends_if_match_and_get_returns_the_etag() {
    let server = MockServer::start().await;
    // A classic account: the incident model probe finds no /status-updates.
    Mock::given(method("GET"))
        .and(path("/api/status-updates"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/incidents/9"))
        .and(query_param("include", "history"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"v3\"")
                .set_body_json(json!({"id": 9, "status": "IDENTIFIED", "history": [{"id": "u1", "content": "hi"}]})),
        )
        .mount(&server)
        .await;
    let body = IncidentWrite {
        summary: "Checkout errors".into(),
        status: "MONITORING".into(),
        message: Some("Fix deployed".into()),
        send_notification: true,
        affected_services: vec![],
    };
    Mock::given(method("PUT"))
        .and(path("/api/incidents/9"))
        .and(header("if-match", "\"v3\""))
        .and(body_json(
            json!({"summary": "Checkout errors", "status": "MONITORING", "message": "Fix deployed",
                               "sendNotification": true, "affectedServices": []}),
        ))
        .respond_with(
            ResponseTemplate::new(412).set_body_json(json!({"status": 412, "message": "stale"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let s = session(&server).await;
    let incident = s.get_incident(9).await.unwrap();
    assert_eq!(incident.etag.as_deref(), Some("\"v3\""));
    assert_eq!(incident.value.history.len(), 1);
    let err = s
        .update_incident(9, &body, incident.etag.as_deref())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(412));
}

#[tokio::test]
async fn posts_are_sent_once_even_on_a_gateway_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/alerts"))
        .and(body_json(
            json!({"summary": "Checkout down", "alertSource": {"id": 5}, "priority": "HIGH",
                               "responders": [{"user": {"id": 7}}]}),
        ))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let alert = ManualAlert {
        summary: "Checkout down".into(),
        alert_source: IdOnly { id: 5 },
        priority: Some("HIGH".into()),
        responders: vec![ResponderWrite {
            user: IdOnly { id: 7 },
        }],
        ..Default::default()
    };
    let err = session(&server)
        .await
        .create_alert(&alert)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
}

#[tokio::test]
async fn assign_uses_the_spec_parameter_names() {
    let server = MockServer::start().await;
    for (param, value) in [("user", "3"), ("policy", "4"), ("schedule", "5")] {
        Mock::given(method("PUT"))
            .and(path("/api/alerts/1/assign"))
            .and(move |req: &Request| req.url.query() == Some(&format!("{param}={value}")))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"id": 1, "status": "PENDING"})),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    let s = session(&server).await;
    for target in [
        AssignTarget::User(3),
        AssignTarget::Policy(4),
        AssignTarget::Schedule(5),
    ] {
        s.assign_alert(1, target).await.unwrap();
    }
}

#[tokio::test]
async fn user_on_call_is_none_on_204_and_overrides_put_a_shift() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/schedules/8/user-on-call"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/schedules/8/overrides"))
        .and(body_json(json!({"user": {"id": 2}, "start": "2026-12-01T08:00:00Z", "end": "2026-12-01T16:00:00Z"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 8})))
        .expect(1)
        .mount(&server)
        .await;
    let s = session(&server).await;
    assert_eq!(s.user_on_call(8).await.unwrap(), None);
    let over = OverrideWrite {
        user: IdOnly { id: 2 },
        start: "2026-12-01T08:00:00Z".into(),
        end: "2026-12-01T16:00:00Z".into(),
    };
    s.add_schedule_override(8, &over).await.unwrap();
}

#[tokio::test]
async fn heartbeat_monitors_page_by_the_next_cursor_header() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/heartbeat-monitors"))
        .and(|req: &Request| req.url.query() == Some("max-results=2"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("next-cursor", "abc")
                .set_body_json(
                    json!([{"id": 1, "name": "a", "state": "HEALTHY"}, {"id": 2, "name": "b"}]),
                ),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/heartbeat-monitors"))
        .and(query_param("cursor", "abc"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([{"id": 3, "state": "OVERDUE"}])),
        )
        .mount(&server)
        .await;
    let s = session(&server).await;
    let first = s.list_heartbeat_monitors(None, 2).await.unwrap();
    assert_eq!(
        (first.monitors.len(), first.next_cursor.as_deref()),
        (2, Some("abc"))
    );
    let second = s.list_heartbeat_monitors(Some("abc"), 2).await.unwrap();
    assert_eq!((second.monitors.len(), second.next_cursor), (1, None));
}

#[tokio::test]
async fn lists_clamp_to_each_endpoints_cap() {
    let server = MockServer::start().await;
    for (p, q) in [
        (
            "/api/schedules",
            "max-results=20&include=currentShift&include=nextShift",
        ),
        ("/api/escalation-policies", "max-results=50"),
        ("/api/services", "max-results=25&include=uptime"),
        ("/api/teams", "max-results=100"),
    ] {
        Mock::given(method("GET"))
            .and(path(p))
            .and(move |req: &Request| req.url.query() == Some(q))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
            .expect(1)
            .mount(&server)
            .await;
    }
    let s = session(&server).await;
    let page = Page::new(0, 500);
    s.list_schedules(page).await.unwrap();
    s.list_escalation_policies(page).await.unwrap();
    s.list_services(page, true).await.unwrap();
    s.list_teams(page).await.unwrap();
}

#[tokio::test]
async fn events_reports_and_on_calls_send_spec_shapes() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/events"))
        .and(body_json(json!({"integrationKey": "il1k", "eventType": "COMMENT", "summary": "note", "alertKey": "k1",
                               "comments": [{"creator": "ilert-mcp", "content": "looking"}]})))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/on-calls"))
        .and(|req: &Request| {
            req.url.query() == Some("policies=1&expand=user&expand=escalationPolicy&expand=schedule&timezone=Asia%2FTokyo&max-results=250")
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"user": {"id": 1, "firstName": "A"}, "escalationLevel": 1}])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/reports/alerts"))
        .and(query_param("metric", "MTTA"))
        .and(query_param("group-by", "DAY"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([["2026-11-20", 120.5], ["2026-11-21", 60]])),
        )
        .mount(&server)
        .await;
    let s = session(&server).await;
    let event = Event {
        integration_key: "il1k".into(),
        event_type: "COMMENT".into(),
        summary: "note".into(),
        alert_key: Some("k1".into()),
        comments: vec![ilert_client::EventComment {
            creator: "ilert-mcp".into(),
            content: "looking".into(),
        }],
        ..Default::default()
    };
    s.send_event(&event).await.unwrap();
    let q = ilert_client::OnCallQuery {
        policies: vec![1],
        timezone: Some("Asia/Tokyo".into()),
        ..Default::default()
    };
    assert_eq!(s.list_on_calls(&q).await.unwrap().len(), 1);
    let r = ReportQuery {
        metric: "MTTA".into(),
        group_by: "DAY".into(),
        priority: "ALL".into(),
        from: "2026-11-20T00:00:00Z".into(),
        until: "2026-11-22T00:00:00Z".into(),
        ..Default::default()
    };
    assert_eq!(s.alert_report(&r).await.unwrap().len(), 2);
}
