//! `Authorization: Bearer <key>`: 401 without a header, 403 KEY_ERROR for anything else bad.

use ilert_sandbox::seed::DEMO_KEYS;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

/// A path ilert does not have is 404 before any key is looked at, as ilert's gateway answers
/// it: with no key, a bad key or a good one.
#[tokio::test]
async fn unknown_paths_are_404_before_authentication() {
    let s = start().await;
    for path in ["/api/nope", "/api/alerts/4711/nope", "/api/status-updates"] {
        for key in [None, Some("not-a-key"), Some(ADMIN)] {
            let r = s.request(Method::GET, path, key, None).await;
            assert_error(&r, 404, "NOT_FOUND");
        }
    }
    // A known path still wants a key.
    let r = s.request(Method::GET, "/api/alerts", None, None).await;
    assert_error(&r, 401, "UNAUTHORIZED");
}

#[tokio::test]
async fn missing_header_is_401() {
    let s = start().await;
    for path in ["/api/alerts", "/api/users/current", "/api/alerts/4711"] {
        let r = s.request(Method::GET, path, None, None).await;
        assert_error(&r, 401, "UNAUTHORIZED");
        assert_eq!(
            r.body,
            json!({"status": 401, "message": "Authorization header is missing. Send 'Authorization: Bearer <API key>'.", "code": "UNAUTHORIZED"})
        );
    }
}

#[tokio::test]
async fn bad_credentials_are_403_key_error() {
    let s = start().await;
    for header in [
        "Bearer not-a-key",
        "Basic demo-key-admin",
        "Token demo-key-admin",
        "demo-key-admin",
        "Bearer ",
        "Bearer",
        "",
    ] {
        let r = reply(
            s.client
                .get(format!("{}/api/alerts", s.base))
                .header("Authorization", header)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_error(&r, 403, "KEY_ERROR");
        assert_eq!(
            r.body["message"], "The API key is invalid, expired or revoked.",
            "header {header:?}"
        );
    }
}

#[tokio::test]
async fn scheme_is_case_insensitive_and_team_context_is_accepted() {
    let s = start().await;
    for (name, value) in [
        ("x-team-context", "0"),
        ("team-context", "-1"),
        ("x-ignored", "1"),
    ] {
        let resp = s
            .client
            .get(format!("{}/api/users/current", s.base))
            .header("Authorization", "bearer demo-key-user")
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn every_demo_key_authenticates_as_its_user() {
    let s = start().await;
    for k in DEMO_KEYS {
        let me = s.ok("/api/users/current", k.key).await;
        assert_eq!(me["id"], k.user_id);
        assert_eq!(me["email"], k.email);
        assert_eq!(me["role"], k.role);
        assert_eq!(
            format!(
                "{} {}",
                me["firstName"].as_str().unwrap(),
                me["lastName"].as_str().unwrap()
            ),
            k.name
        );
    }
}
