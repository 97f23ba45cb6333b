//! `GET /api/users/current` and `PUT /api/users/current`.

use reqwest::Method;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn current_user_has_the_user_schema_fields() {
    let s = start().await;
    let me = s.ok("/api/users/current", RESPONDER).await;
    assert_eq!(me["id"], 10003);
    assert_eq!(me["firstName"], "Priya");
    assert_eq!(me["lastName"], "Nair");
    assert_eq!(me["email"], "priya.nair@example.com");
    assert_eq!(me["timezone"], "Asia/Kolkata");
    assert_eq!(me["role"], "RESPONDER");
    assert_eq!(me["language"], "en");
    assert_eq!(me["region"], "IN");
    assert!(me["createdAt"].as_str().unwrap().ends_with('Z'));

    let admin = s.ok("/api/users/current", ADMIN).await;
    assert_eq!(admin["email"], "maya.chen@example.com");
    assert_eq!(admin["timezone"], "Europe/Berlin");
    let sam = s.ok("/api/users/current", STAKEHOLDER).await;
    assert_eq!(sam["timezone"], "America/New_York");
}

#[tokio::test]
async fn put_current_user_replaces_fields_and_validates() {
    let s = start().await;
    let body = json!({
        "firstName": "Jonas", "lastName": "Weber-Klein", "email": "jonas.weber@example.com",
        "timezone": "Europe/Berlin", "language": "en", "region": "DE", "position": "Staff Engineer",
        "role": "ADMIN"
    })
    .to_string();
    let r = s
        .request(Method::PUT, "/api/users/current", Some(USER), Some(&body))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["lastName"], "Weber-Klein");
    assert_eq!(r.body["language"], "en");
    assert_eq!(r.body["position"], "Staff Engineer");
    assert_eq!(r.body["department"], serde_json::Value::Null);
    assert_eq!(r.body["role"], "USER", "nobody promotes themselves");
    assert_eq!(s.ok("/api/users/current", USER).await, r.body);

    let missing = json!({"firstName": "Jonas"}).to_string();
    let r = s
        .request(
            Method::PUT,
            "/api/users/current",
            Some(USER),
            Some(&missing),
        )
        .await;
    assert!(assert_error(&r, 400, "BAD_REQUEST").contains("lastName"));

    let taken =
        json!({"firstName": "J", "lastName": "W", "email": "maya.chen@example.com"}).to_string();
    let r = s
        .request(Method::PUT, "/api/users/current", Some(USER), Some(&taken))
        .await;
    assert_error(&r, 400, "BAD_REQUEST");

    let bad_language =
        json!({"firstName": "J", "lastName": "W", "email": "j@example.com", "language": "fr"})
            .to_string();
    let r = s
        .request(
            Method::PUT,
            "/api/users/current",
            Some(USER),
            Some(&bad_language),
        )
        .await;
    assert!(assert_error(&r, 400, "BAD_REQUEST").contains("language"));
}
